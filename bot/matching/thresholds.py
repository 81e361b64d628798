"""Score bands and weights of the matcher, in one place.

Calibrated with `bench/calibrate.py` on the labelled dev set; change them only together
with a fresh run of that script and `bench/accuracy.py`.
"""

# A candidate's confidence (0..100) is a weighted mean of three signals:
#   bm25     - its BM25 score relative to the best candidate's (ranking strength),
#   coverage - the share of the question's weighted words it covers (is the question about it?),
#   fuzzy    - rapidfuzz QRatio against its closest paraphrase or keyword (whole-phrase match).
BM25_WEIGHT = 0.5
COVERAGE_WEIGHT = 1.5
FUZZY_WEIGHT = 1.0
TOTAL_WEIGHT = BM25_WEIGHT + COVERAGE_WEIGHT + FUZZY_WEIGHT
# Coverage is measured against at least this much idf (about one distinctive word).
MIN_EVIDENCE = 2.5
BM25_K1 = 1.2
BM25_B = 0.5

# At or above ANSWER_AT with a clear lead over the runner-up: answer directly.
ANSWER_AT = 46.0
# A lead smaller than this (in points) between the top two turns an answer into "did you mean".
MIN_LEAD = 3.0
# At or above SUGGEST_AT: "did you mean" with up to MAX_SUGGESTIONS candidates.
SUGGEST_AT = 30.0
MAX_SUGGESTIONS = 3
# Candidates shown in a suggestion must score at least this share of the best one.
SUGGEST_RELATIVE = 0.75

# Term similarity: exact 1.0; prefix (compound) and typo matches weigh less.
PREFIX_SIMILARITY = 0.8
MIN_PREFIX = 4
FUZZY_SIMILARITY = 0.9
FUZZY_TOKEN_CUTOFF = 84.0
MIN_FUZZY_TOKEN_LEN = 5
# How many intents (by BM25) are re-ranked with the whole-phrase fuzzy score.
RERANK_TOP = 12

# A question is read up to its first MAX_QUERY_TERMS distinct content words. Real questions
# have fewer than twenty; the cap bounds the time one 4096-character message can hold the
# event loop (each unknown word costs a typo search over the vocabulary).
MAX_QUERY_TERMS = 48
