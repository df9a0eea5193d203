run:
	scripts/run-demo.sh

test:
	scripts/test.sh

.PHONY: run test
