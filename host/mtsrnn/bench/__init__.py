"""The benchmarks, each a module of the same shape: `run(...)` measures and
returns the JSON-ready results (what `--json` writes), `format_report(data)`
renders them as the printed table, and plot.py draws them.

- host.py: `mtsrnn bench host`, the timed grid on this machine against the
  peers (peers.py: mtsrnn, NumPy blocked, CMSIS-DSP per step, PyPI sru, the
  benchmark models) and the roofline (roofline.py: read bandwidth and peak
  FLOP rate, measured in the same run), with its targets;
- dram.py: `mtsrnn bench dram`, cachegrind's last-level misses and
  instructions per step;
- device.py: `mtsrnn bench device`, counters per step on a device for every
  product variant;
- plot.py: the PNGs of the host and device results.
"""
