# The two commands of the README's quick start; each sets up everything it needs.
.PHONY: demo test lint bench clean

demo:
	@scripts/bootstrap-venv
	.venv/bin/noc demo

test:
	@scripts/bootstrap-venv
	@NOC_TEST_PG_URL="$$(scripts/ensure-test-deps | tail -n 1)" && export NOC_TEST_PG_URL && \
	  .venv/bin/ruff check . && \
	  .venv/bin/mypy && \
	  .venv/bin/pytest -n $${NOC_TEST_WORKERS:-4} --dist loadfile

lint:
	@scripts/bootstrap-venv
	.venv/bin/ruff check .
	.venv/bin/mypy

bench:
	@scripts/bootstrap-venv
	@scripts/ensure-test-deps >/dev/null
	.venv/bin/python benchmarks/poll_throughput.py
	.venv/bin/python benchmarks/startup.py
	NOC_TEST_PG_URL="$$(scripts/ensure-test-deps | tail -n 1)" .venv/bin/python benchmarks/notices.py
	NOC_TEST_PG_URL="$$(scripts/ensure-test-deps | tail -n 1)" .venv/bin/python benchmarks/complaints.py
	NOC_TEST_PG_URL="$$(scripts/ensure-test-deps | tail -n 1)" .venv/bin/python benchmarks/api_load.py
	.venv/bin/python benchmarks/live_sessions.py
	NOC_TEST_PG_URL="$$(scripts/ensure-test-deps | tail -n 1)" .venv/bin/python benchmarks/wifi_campaign.py
	NOC_TEST_PG_URL="$$(scripts/ensure-test-deps | tail -n 1)" .venv/bin/python benchmarks/grafana_queries.py

clean:
	rm -rf .venv .noc-demo .pytest_cache .ruff_cache .mypy_cache
