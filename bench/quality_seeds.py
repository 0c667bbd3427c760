"""Quality over several seeds: python bench/quality_seeds.py exact|batched 1,2,3

Builds wiki8's vocabulary once, trains 5 epochs (d=100, window 5, 5 noise words, sample 1e-4,
2 workers) per seed, prints analogy accuracy (30,000 words, 3CosAdd) and WordSim-353 Spearman.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, require_data  # noqa: E402

import cw2v  # noqa: E402
from cw2v import corpus, evaluate  # noqa: E402

require_data(DATA / "corpus" / "wiki8.txt.xz")
vocab, enc = corpus.build(DATA / "corpus" / "wiki8.txt.xz", min_count=5)
for seed in map(int, sys.argv[2].split(",")):
    m = cw2v.Word2Vec.from_vocabulary(vocab, d=100, n_neg=5, seed=seed)
    m.train(enc, epochs=5, workers=2, mode=sys.argv[1], sample=1e-4, window=5, seed=seed, progress=False)
    a = evaluate.analogies(m, DATA / "eval" / "questions-words.txt", restrict_vocab=30000)
    w = evaluate.word_pairs(m, DATA / "eval" / "wordsim353.tsv")
    print(sys.argv[1], seed, round(a.accuracy, 4), round(w.spearman, 3), flush=True)
