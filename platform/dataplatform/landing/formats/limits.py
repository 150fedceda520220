"""The sizes that bound how much of a landed file is sniffed, sampled and held at once, read as
`limits.NAME` so that a test can shrink them."""

SNIFF_BYTES = 64 * 1024
SNIFF_CHARS = 8 * 1024  # csv.Sniffer's regular expressions are quadratic on some inputs
# The CSV block is the longest record accepted and the sample that decides column types; pyarrow
# reads up to 32 blocks ahead, so it also bounds memory.
BLOCK_BYTES = 4 * 1024 * 1024
SAMPLE_ROWS = 10_000
PROBE_ROWS = 1_000
BATCH_ROWS = 50_000
BATCH_BYTES = 32 * 1024 * 1024
# A gzip or zip member unpacked past either bound is a decompression bomb, quarantined: the most
# bytes written, and (once past RATIO_FLOOR_BYTES, so small repetitive files pass) the most bytes
# per compressed byte. Real CSV or JSON rarely passes 20:1; zeros reach about 1000:1.
MAX_UNPACKED_BYTES = 8 * 1024 * 1024 * 1024
MAX_UNPACK_RATIO = 200
RATIO_FLOOR_BYTES = 64 * 1024 * 1024
