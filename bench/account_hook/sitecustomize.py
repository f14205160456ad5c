"""Put on a Graphport process's PYTHONPATH by a benchmark (with bench/ after it) so the
process counts its per-run account: see bench/accounting.py."""

import accounting

accounting.install()
