# The seed's make targets. Binaries land in bin/.
.PHONY: all interlink sidecars vk test demo bench clean setup

JOBS ?= $(shell nproc)

all:
	IL_JOBS=$(JOBS) scripts/build release

interlink:
	IL_JOBS=$(JOBS) scripts/build release --target interlink

sidecars:
	IL_JOBS=$(JOBS) scripts/build release --target mock-sd $(if $(wildcard src/sidecars/docker/CMakeLists.txt),docker-sd) $(if $(wildcard src/sidecars/slurm/CMakeLists.txt),slurm-sd)

vk:
	IL_JOBS=$(JOBS) scripts/build release --target vk

setup:
	scripts/setup all

test:
	scripts/test

demo:
	scripts/demo

bench: all
	bench/run

clean:
	rm -rf build bin
