# The two commands of the README; each installs what is missing first. `make bench` runs the
# benchmarks and `make eval` the memory evaluation (neither is part of the tests).
.PHONY: run test bench eval
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
eval:
	bash scripts/eval.sh
