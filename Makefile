# The two commands of the README; each installs what is missing first.
.PHONY: run test
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
