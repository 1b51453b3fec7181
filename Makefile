# The two commands of the README; each installs what is missing first. `make bench` runs the
# benchmarks (not part of the tests).
.PHONY: run test bench
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
