"""Score bands and weights of the matcher, in one place.

Calibrated with `bench/calibrate.py` on the labelled dev set; change them only together
with a fresh run of that script and `bench/accuracy.py`.
"""

# A candidate's confidence is 100 * (LEXICAL_WEIGHT * coverage + FUZZY_WEIGHT * fuzzy / 100).
LEXICAL_WEIGHT = 0.6
FUZZY_WEIGHT = 0.4

# At or above ANSWER_AT with a clear lead over the runner-up: answer directly.
ANSWER_AT = 50.0
# A lead smaller than this (in points) between the top two turns an answer into "did you mean".
MIN_LEAD = 4.0
# At or above SUGGEST_AT: "did you mean" with up to MAX_SUGGESTIONS candidates.
SUGGEST_AT = 33.0
MAX_SUGGESTIONS = 3
# Candidates shown in a suggestion must score at least this share of the best one.
SUGGEST_RELATIVE = 0.75

# Token similarity: exact 1.0; shared stem (prefix) and fuzzy matches weigh less.
PREFIX_SIMILARITY = 0.85
MIN_PREFIX = 4
FUZZY_TOKEN_CUTOFF = 84.0
MIN_FUZZY_TOKEN_LEN = 5
# How many intents (by lexical score) are re-ranked with the paraphrase fuzzy score.
RERANK_TOP = 12
