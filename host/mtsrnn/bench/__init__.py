"""Benchmarks of the kernels on this machine (`mtsrnn bench host`, `mtsrnn
bench dram`); `mtsrnn bench device` lives with the device commands.

- peers.py: the implementations compared (mtsrnn, NumPy blocked, CMSIS-DSP
  per step, PyPI sru) and the benchmark models;
- roofline.py: read bandwidth and peak FLOP rate, measured in the same run;
- host.py: the timed grid, its table, targets and JSON;
- dram.py: cachegrind's last-level misses and instructions per step;
- plot.py: the PNG of the host results.
"""
