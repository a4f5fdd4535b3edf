// The live session page: follows the session's server-sent events and shows each reading.
"use strict";
(function () {
  const box = document.getElementById("session");
  if (!box || box.dataset.state !== "open") return;
  const lang = box.dataset.lang;
  const words = {
    sl: { good: "dobro", marginal: "mejno", bad: "slabo", no_answer: "ni odziva", ended: "seja je končana",
          reachable: "dosegljivost", uptime: "čas delovanja", registration: "registracija", utilization: "zasedenost segmenta",
          ticket: "odprt nadgradnji zahtevek", maintenance: "vzdrževanje", wifi: "Wi-Fi odjemalci", none: "ni" },
    en: { good: "good", marginal: "marginal", bad: "bad", no_answer: "no answer", ended: "session ended",
          reachable: "reachability", uptime: "uptime", registration: "registration", utilization: "segment utilization",
          ticket: "open upgrade ticket", maintenance: "maintenance", wifi: "Wi-Fi clients", none: "none" },
  }[lang] || {};
  const charts = {
    snr: new NocChart(document.getElementById("chart-snr"), lang === "sl" ? "SNR sprejema (min)" : "Downstream SNR (min)", "dB"),
    us: new NocChart(document.getElementById("chart-us"), lang === "sl" ? "Oddajna moč (max)" : "Upstream power (max)", "dBmV"),
    rtt: new NocChart(document.getElementById("chart-rtt"), "RTT", "ms"),
  };
  const cell = (text, cls) => { const td = document.createElement("td"); td.textContent = text ?? "–"; if (cls) td.className = cls; return td; };
  const row = (...cells) => { const tr = document.createElement("tr"); tr.append(...cells); return tr; };
  const keepHeader = table => table.replaceChildren(...Array.from(table.rows).slice(0, 1));
  const when = iso => new Date(iso).toLocaleString(lang === "sl" ? "sl-SI" : "en-GB", { dateStyle: "short", timeStyle: "short" });
  const works = items => {  // each window links to its page in the console (local times)
    const td = document.createElement("td");
    if (!items.length) { td.textContent = words.none; return td; }
    items.forEach((w, i) => {
      const a = document.createElement("a");
      a.href = `${box.dataset.maintenance}/${w.id}`;
      a.textContent = `${w.title} (${when(w.starts_at)})`;
      td.append(...(i ? [", ", a] : [a]));
    });
    return td;
  };
  const grade = g => g || "no_answer";
  const duration = s => {
    if (typeof s !== "number") return null;
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${Math.floor(s % 60)} s`;
  };

  function show(r) {
    const badge = document.getElementById("grade");
    const g = r.state === "no_answer" ? "no_answer" : grade(r.grade);
    badge.textContent = words[g] || g; badge.className = "badge " + g;
    document.getElementById("updated").textContent = new Date(r.at || Date.now()).toLocaleTimeString();
    const hints = document.getElementById("hints");
    hints.replaceChildren(...(r.hints || []).map(h => { const li = document.createElement("li"); li.textContent = h[lang] || h.en; return li; }));
    const ds = document.getElementById("downstream"), us = document.getElementById("upstream");
    keepHeader(ds); keepHeader(us);
    (r.downstream || []).forEach(c => ds.append(row(cell(c.channel), cell(c.power_dbmv), cell(c.snr_db ?? c.rxmer_db, c.grade),
                                                   cell(c.corrected), cell(c.uncorrectable))));
    (r.upstream || []).forEach(c => us.append(row(cell(c.channel), cell(c.tx_power_dbmv, c.grade))));
    const snrs = (r.downstream || []).map(c => c.snr_db ?? c.rxmer_db).filter(v => typeof v === "number");
    const txs = (r.upstream || []).map(c => c.tx_power_dbmv).filter(v => typeof v === "number");
    charts.snr.push(snrs.length ? Math.min(...snrs) : null);
    charts.us.push(txs.length ? Math.max(...txs) : null);
    const reach = r.reachability || {};
    charts.rtt.push(reach.rtt_ms ? reach.rtt_ms.avg : null);
    const ctx = r.context || {}, util = ctx.utilization || {};
    const status = document.getElementById("status");
    status.replaceChildren(
      row(cell(words.reachable), cell(reach.method ? `${reach.reachable ? "✓" : "✗"} ${reach.method}, loss ${Math.round((reach.loss || 0) * 100)} %` : null)),
      row(cell(words.registration), cell(r.registration, r.status ? r.status.registration_grade : "no_answer")),
      row(cell(words.uptime), cell(duration(r.uptime_s))),
      row(cell(words.wifi), cell(r.wifi_clients)),
      row(cell(words.utilization), cell(ctx.segment ? `${ctx.segment}: ↓ ${util.down != null ? Math.round(util.down * 100) + " %" : "–"} ↑ ${util.up != null ? Math.round(util.up * 100) + " %" : "–"}` : null)),
      row(cell(words.ticket), cell((ctx.tickets || []).map(t => `#${t.id} ${t.direction}`).join(", ") || words.none)),
      row(cell(words.maintenance), works(ctx.maintenance || [])),
    );
  }

  const source = new EventSource(box.dataset.stream);
  source.addEventListener("reading", e => show(JSON.parse(e.data)));
  source.addEventListener("end", () => { source.close(); document.getElementById("state").textContent = words.ended; });
})();
