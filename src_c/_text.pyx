# Text kernel: words found in raw bytes and kept in a hash table, with the GIL released.
#
# ``WordTable`` turns corpus text into word ids for ``cw2v.corpus`` (tokens as ``str.split()``
# finds them in UTF-8 text, a line per sentence) and counts them; ``PhraseTable`` extends it with
# adjacent n-grams for phrase detection: counting unigrams and bigrams, scoring them with
# word2phrase's rule (Mikolov et al. 2013, "Distributed Representations of Words and Phrases and
# their Compositionality", section 4) and joining phrases greedily.
#
# Phrases split words on ASCII whitespace (b" \t\n\r\v\f", as bytes.split()); the corpus reader
# on every character ``str.split()`` splits on (the ASCII ones, \x1c-\x1f, and the Unicode
# spaces, in their UTF-8 form). "\n" ends a sentence either way. Words live in an
# open-addressing table keyed by a 64-bit hash of their bytes; a match is confirmed by comparing
# the bytes, so counts are exact (no two words ever share an entry). A word gets a dense id (its
# entry), and a provisional id (``pid``: order of first appearance, never reused after pruning)
# that the corpus reader writes out. An n-gram (a bigram, or with connector words a, c1, ..., ck,
# b) is keyed by its word ids: a bigram's key is the pair of ids itself (exact, no string is
# stored), a longer one's ids are kept in an int32 arena and compared. Connector words hold the
# first ids and are never pruned.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove, memset
from libc.math cimport log

cdef extern from "text_scan.h":
    void* slots_alloc "cw2v_slots_alloc"(size_t bytes) noexcept nogil
    void* slots_grow "cw2v_slots_grow"(void* p, size_t old_bytes, size_t new_bytes) noexcept nogil
    void slots_free "cw2v_slots_free"(void* p, size_t bytes) noexcept nogil
    Py_ssize_t word_end "cw2v_word_end"(const uint8_t* p, Py_ssize_t pos,
                                        Py_ssize_t end) noexcept nogil
    uint64_t hash_bytes "cw2v_hash_bytes"(const uint8_t* p, Py_ssize_t n) noexcept nogil
    Py_ssize_t word_end_hash "cw2v_word_end_hash"(const uint8_t* p, Py_ssize_t pos,
                                                  Py_ssize_t end, uint64_t* h) noexcept nogil
    uint64_t head8 "cw2v_head8"(const uint8_t* p, Py_ssize_t n) noexcept nogil
    bint tail_equal "cw2v_tail_equal"(const uint8_t* p, const uint8_t* q,
                                      Py_ssize_t n) noexcept nogil
    uint64_t hash_in "cw2v_hash_in"(const uint8_t* p, Py_ssize_t n,
                                    const uint8_t* end) noexcept nogil
    bint is_space "cw2v_is_space"(unsigned char c) noexcept nogil
    void prefetch "cw2v_prefetch"(const void* p) noexcept nogil
    int uspace "cw2v_uspace"(const uint8_t* p, Py_ssize_t avail) noexcept nogil
    Py_ssize_t token_end "cw2v_token_end"(const uint8_t* p, Py_ssize_t pos,
                                          Py_ssize_t end) noexcept nogil

ctypedef struct WordSlot:
    uint64_t hash
    int32_t id1          # word id + 1; 0: empty slot
    int32_t len          # the word's length in bytes (checked before its bytes)
    uint64_t head        # head8 of the word: words of up to 8 bytes are compared here alone,
                         # without reading the arena (most words: one cache miss fewer)

ctypedef struct GramSlot:
    int64_t key          # 0 empty; > 0: a bigram, (a << 32 | b) + 1; < 0: -(arena offset + 1)
    int64_t value        # count while learning; phrase number in a frozen table

cdef enum:
    WORD_AHEAD = 16      # words whose slots are prefetched before they are looked up
    PAIR_BLOCK = 64      # bigrams whose slots are prefetched before they are counted
    SCORE_DEFAULT = 0
    SCORE_NPMI = 1


cdef inline uint64_t mix64(uint64_t z) noexcept nogil:
    # splitmix64's finaliser: spreads a key over all 64 bits
    z = (z ^ (z >> 30)) * <uint64_t>0xbf58476d1ce4e5b9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94d049bb133111ebULL
    return z ^ (z >> 31)


cdef inline uint64_t hash_ids(const int32_t* ids, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = <uint64_t>n
    cdef Py_ssize_t i
    for i in range(n):
        h = mix64(h ^ (<uint64_t><uint32_t>ids[i] + (<uint64_t>i << 40)))
    return h


cdef inline int regrow(void** block, size_t size) noexcept nogil:
    # realloc *block to size bytes in place of it; -1 (the old block kept) if out of memory
    cdef void* q = realloc(block[0], size)
    if q == NULL:
        return -1
    block[0] = q
    return 0


ctypedef struct IdBuffer:
    # a growable array of ids: a pending candidate's words (a learning table's own; each call
    # applying a table has its own, so that threads applying one table share nothing they write)
    int32_t* ids
    Py_ssize_t cap


cdef inline int id_room(IdBuffer* b, Py_ssize_t n) noexcept nogil:
    # room for n ids in b.ids; -1 if out of memory (b kept as it was)
    while n > b.cap:
        if regrow(<void**>&b.ids, 2 * b.cap * sizeof(int32_t)) != 0:
            return -1
        b.cap *= 2
    return 0


cdef inline bint filter_has(const uint64_t* f, int shift, uint64_t h) noexcept nogil:
    # a membership filter's bit for hash h (its top bits); clear: not in the table
    cdef uint64_t k = h >> shift
    return (f[k >> 6] >> (k & 63)) & 1


cdef inline void filter_set(uint64_t* f, int shift, uint64_t h) noexcept nogil:
    cdef uint64_t k = h >> shift
    f[k >> 6] |= (<uint64_t>1) << (k & 63)


cdef inline uint64_t pair_hash(uint64_t ha, uint64_t hb) noexcept nogil:
    # the hash of adjacent words of hashes ha, hb (ordered), for the pair filter
    return (ha * <uint64_t>0x9e3779b97f4a7c15ULL) ^ hb


cdef uint64_t* filter_new(Py_ssize_t entries, int* shift) noexcept nogil:
    # a zeroed filter of 16-32 bits per entry (at least 2**12), its shift in shift; one probe
    # of it answers "not in the table" for all but 3-6% of absent keys; NULL if out of memory
    cdef int bits = 12
    while bits < 62 and (<Py_ssize_t>1 << bits) < 16 * entries:
        bits += 1
    shift[0] = 64 - bits
    return <uint64_t*>calloc((<size_t>1 << bits) // 64, sizeof(uint64_t))


cdef enum:
    FAIL_MEMORY = 1      # an allocation failed
    FAIL_IDS = 2         # more provisional ids than int32 holds


cdef class WordTable:
    """Words with counts: the hash table both the corpus reader and the phrase kernel use.

    ``cw2v.corpus`` reads a corpus file in chunks and calls ``encode_chunk`` on each (a new
    word gets the next provisional id, order of first appearance; with ``add=False`` a word not
    in the table is -1), then ``prune_rarest`` when the table has a bound, and ``export_vocab``
    at the end. Every method validates its arguments before its ``nogil`` block; allocation
    failures inside raise ``MemoryError`` after it.
    """
    cdef WordSlot* wslots
    cdef Py_ssize_t wcap            # slots, a power of two
    cdef uint64_t* whash
    cdef int64_t* wcount
    cdef int64_t* woff
    cdef int32_t* wlen
    cdef int32_t* wpid              # provisional id (order of first appearance)
    cdef uint8_t* wconn             # connector word (phrases)
    cdef Py_ssize_t nwords, wids_cap
    cdef uint8_t* warena
    cdef Py_ssize_t warena_len, warena_cap
    cdef readonly int64_t next_pid
    cdef readonly int64_t prune_floor   # ReduceVocab's min_reduce: entries counted <= it go
    cdef readonly int64_t prunes
    cdef int failed                 # 0, FAIL_MEMORY or FAIL_IDS
    # A membership filter over the words' hashes (NULL: none), for tables that are looked up
    # far more than they grow (a frozen phrase table): most absent words are answered by one
    # bit instead of a probe run. Built by build_filters; a word added later sets its bit.
    cdef uint64_t* wfilter
    cdef int wfshift

    def __cinit__(self):
        self.wcap = 1024
        self.wslots = <WordSlot*>slots_alloc(self.wcap * sizeof(WordSlot))
        self.wids_cap = 1024
        self.whash = <uint64_t*>malloc(self.wids_cap * sizeof(uint64_t))
        self.wcount = <int64_t*>malloc(self.wids_cap * sizeof(int64_t))
        self.woff = <int64_t*>malloc(self.wids_cap * sizeof(int64_t))
        self.wlen = <int32_t*>malloc(self.wids_cap * sizeof(int32_t))
        self.wpid = <int32_t*>malloc(self.wids_cap * sizeof(int32_t))
        self.wconn = <uint8_t*>malloc(self.wids_cap * sizeof(uint8_t))
        self.warena_cap = 1 << 16
        self.warena = <uint8_t*>malloc(self.warena_cap)
        self.prune_floor = 1
        if (self.wslots == NULL or self.whash == NULL or self.wcount == NULL or self.woff == NULL
                or self.wlen == NULL or self.wpid == NULL or self.wconn == NULL
                or self.warena == NULL):
            raise MemoryError()

    def __dealloc__(self):
        slots_free(self.wslots, self.wcap * sizeof(WordSlot))
        free(self.whash); free(self.wcount); free(self.woff); free(self.wlen)
        free(self.wpid); free(self.wconn); free(self.warena); free(self.wfilter)

    @property
    def n_words(self):
        """Words in the table (connector words included)."""
        return self.nwords

    cdef int raise_failure(self) except -1:
        cdef int failed = self.failed
        self.failed = 0
        if failed == FAIL_IDS:
            raise ValueError("more than 2**31 - 1 distinct words were seen (pruning included)")
        if failed:
            raise MemoryError("out of memory in the word table")
        return 0

    # -- words ----------------------------------------------------------------------------------

    cdef inline int64_t word_find(self, const uint8_t* p, Py_ssize_t n, uint64_t h) noexcept nogil:
        cdef Py_ssize_t mask = self.wcap - 1
        cdef Py_ssize_t i = <Py_ssize_t>(h & <uint64_t>mask)
        cdef int64_t wid
        if self.wfilter != NULL and not filter_has(self.wfilter, self.wfshift, h):
            return -1
        while True:
            wid = self.wslots[i].id1 - 1
            if wid < 0:
                return -1
            if (self.wslots[i].hash == h and self.wslots[i].len == n
                    and self.wslots[i].head == head8(p, n)):
                if n <= 8 or tail_equal(self.warena + self.woff[wid], p, n):
                    return wid
            i = (i + 1) & mask

    cdef inline void word_slot_put(self, uint64_t h, int64_t wid) noexcept nogil:
        cdef Py_ssize_t mask = self.wcap - 1
        cdef Py_ssize_t i = <Py_ssize_t>(h & <uint64_t>mask)
        while self.wslots[i].id1 != 0:
            i = (i + 1) & mask
        self.wslots[i].hash = h
        self.wslots[i].id1 = <int32_t>(wid + 1)
        self.wslots[i].len = self.wlen[wid]
        self.wslots[i].head = head8(self.warena + self.woff[wid], self.wlen[wid])

    cdef int grow_words(self) noexcept nogil:
        cdef Py_ssize_t cap = self.wids_cap * 2
        if (regrow(<void**>&self.whash, cap * sizeof(uint64_t))
                or regrow(<void**>&self.wcount, cap * sizeof(int64_t))
                or regrow(<void**>&self.woff, cap * sizeof(int64_t))
                or regrow(<void**>&self.wlen, cap * sizeof(int32_t))
                or regrow(<void**>&self.wpid, cap * sizeof(int32_t))
                or regrow(<void**>&self.wconn, cap * sizeof(uint8_t))):
            return -1
        self.wids_cap = cap
        return 0

    cdef int double_words(self) noexcept nogil:
        # twice the slots, every word put again from its hash; -1 (nothing changed) if out of
        # memory
        cdef void* slots = slots_grow(self.wslots, self.wcap * sizeof(WordSlot),
                                      2 * self.wcap * sizeof(WordSlot))
        cdef Py_ssize_t wid
        if slots == NULL:
            return -1
        self.wslots = <WordSlot*>slots
        memset(self.wslots, 0, self.wcap * sizeof(WordSlot))
        self.wcap *= 2
        for wid in range(self.nwords):
            self.word_slot_put(self.whash[wid], wid)
        return 0

    cdef int64_t word_add(self, const uint8_t* p, Py_ssize_t n, uint64_t h) noexcept nogil:
        # the id of word p[:n], added (count 0, the next provisional id) if new; -1 if out of
        # memory (failed is set)
        cdef int64_t wid = self.word_find(p, n, h)
        cdef Py_ssize_t cap
        cdef void* q
        if wid >= 0:
            return wid
        if self.nwords >= 0x7ffffffe or self.next_pid >= 0x7fffffff:  # ids are int32
            self.failed = FAIL_IDS
            return -1
        self.failed = FAIL_MEMORY  # until the word is in
        if self.nwords == self.wids_cap and self.grow_words() != 0:
            return -1
        if (self.nwords + 1) * 10 > self.wcap * 7 and self.double_words() != 0:
            return -1
        if self.warena_len + n > self.warena_cap:
            cap = self.warena_cap * 2
            while cap < self.warena_len + n:
                cap *= 2
            q = realloc(self.warena, cap)
            if q == NULL:
                return -1
            self.warena = <uint8_t*>q
            self.warena_cap = cap
        self.failed = 0
        wid = self.nwords
        memcpy(self.warena + self.warena_len, p, n)
        self.woff[wid] = self.warena_len
        self.wlen[wid] = <int32_t>n
        self.whash[wid] = h
        self.wcount[wid] = 0
        self.wpid[wid] = <int32_t>self.next_pid
        self.wconn[wid] = 0
        self.warena_len += n
        self.nwords += 1
        self.next_pid += 1
        self.word_slot_put(h, wid)
        if self.wfilter != NULL:
            filter_set(self.wfilter, self.wfshift, h)
        return wid

    cdef void compact_words(self, int64_t floor, int64_t* remap) noexcept nogil:
        # word2vec.c's ReduceVocab: keep connector words and words counted > floor, in order
        # (remap[old] = new id, or -1 for a dropped word); provisional ids are kept.
        cdef Py_ssize_t wid, new_n = 0, arena = 0
        for wid in range(self.nwords):
            if self.wconn[wid] or self.wcount[wid] > floor:
                remap[wid] = new_n
                memmove(self.warena + arena, self.warena + self.woff[wid], self.wlen[wid])
                self.woff[new_n] = arena
                self.wlen[new_n] = self.wlen[wid]
                self.whash[new_n] = self.whash[wid]
                self.wcount[new_n] = self.wcount[wid]
                self.wpid[new_n] = self.wpid[wid]
                self.wconn[new_n] = self.wconn[wid]
                arena += self.wlen[wid]
                new_n += 1
            else:
                remap[wid] = -1
        self.nwords = new_n
        self.warena_len = arena
        memset(self.wslots, 0, self.wcap * sizeof(WordSlot))
        for wid in range(new_n):
            self.word_slot_put(self.whash[wid], wid)

    cdef inline void word_prefetch(self, uint64_t h) noexcept nogil:
        # fetch the home slot of a word of hash h into the cache
        prefetch(&self.wslots[h & <uint64_t>(self.wcap - 1)])

    cdef inline void found_word(self, Py_ssize_t a, Py_ssize_t b, uint64_t hash,
                                Py_ssize_t* scan, Py_ssize_t* start, Py_ssize_t* stop,
                                uint64_t* h) noexcept nogil:
        # a scanner's word p[a:b], of hash hash: its bounds, the scan moved past it, its hash;
        # its slot is prefetched (it is looked up some words later)
        start[0] = a
        stop[0] = b
        scan[0] = b
        h[0] = hash
        self.word_prefetch(hash)

    # -- corpus text ----------------------------------------------------------------------------

    cdef inline bint scan_token(self, const uint8_t* p, Py_ssize_t end, Py_ssize_t* scan,
                                Py_ssize_t* start, Py_ssize_t* stop, bint* newline,
                                uint64_t* h) noexcept nogil:
        # the next token of p[scan[0]:end] (str.split()'s whitespace): its bounds, whether a
        # "\n" came before it, its hash (its slot is prefetched); False at the end, with
        # newline set if a "\n" came after the last token
        cdef Py_ssize_t q = scan[0], b
        cdef int k
        cdef bint nl = False
        while q < end:
            k = uspace(p + q, end - q)
            if k == 0:
                break
            if p[q] == 10:
                nl = True
            q += k
        scan[0] = q
        newline[0] = nl
        if q >= end:
            return False
        b = token_end(p, q, end)
        self.found_word(q, b, hash_in(p + q, b - q, p + end), scan, start, stop, h)
        return True

    def encode_chunk(self, const uint8_t[::1] buf, bint add, int32_t[::1] ids_out,
                     int64_t[::1] ends_out):
        """The provisional ids of the tokens of ``buf`` (whole tokens: the caller cuts it after
        whitespace) and where its sentences end.

        Tokens are split as ``str.split()`` splits the UTF-8 text (the caller has checked that
        it decodes); each one is counted. With ``add`` a new word gets the next provisional
        id, otherwise it is not added and its id is -1.

        Parameters
        ----------
        buf : bytes-like
            UTF-8 text.
        add : bool
            Add new words to the table.
        ids_out : int32 array
            At least ``(len(buf) + 1) // 2`` long: the tokens' ids.
        ends_out : int64 array
            At least ``buf.count(b"\\n")`` long: for each line end that follows a token, the
            number of tokens before it (a run of line ends gives one).

        Returns
        -------
        (n_tokens, n_ends) : (int, int)
        """
        cdef const uint8_t* p = &buf[0] if buf.shape[0] > 0 else NULL
        cdef Py_ssize_t n = buf.shape[0], tok = 0, nends = 0, last_end = -1, start, stop
        cdef int64_t wid
        cdef Py_ssize_t rs[WORD_AHEAD]
        cdef Py_ssize_t re[WORD_AHEAD]
        cdef uint64_t rh[WORD_AHEAD]
        cdef bint rnl[WORD_AHEAD]
        cdef bint tail_nl = False
        cdef Py_ssize_t rcount = 0, rhead = 0, scan = 0
        if ids_out.shape[0] < (n + 1) // 2:
            raise ValueError("ids_out is shorter than (len(buf) + 1) // 2")
        if ends_out.shape[0] < n:
            # a "\n" count bounds the ends: checked here, where it is cheap
            if ends_out.shape[0] < _count_newlines(p, n):
                raise ValueError("ends_out is shorter than the line ends of buf")
        self.failed = 0
        with nogil:
            # tokens are found and hashed, and their slots prefetched, WORD_AHEAD tokens early
            while rcount < WORD_AHEAD:
                if not self.scan_token(p, n, &scan, &rs[rcount], &re[rcount], &rnl[rcount],
                                       &rh[rcount]):
                    tail_nl = rnl[rcount]
                    break
                rcount += 1
            while rcount > 0:
                start = rs[rhead]
                stop = re[rhead]
                if rnl[rhead] and tok > last_end:  # the sentence ended before this token
                    ends_out[nends] = tok
                    nends += 1
                    last_end = tok
                wid = self.word_find(p + start, stop - start, rh[rhead])
                if wid < 0 and add:
                    wid = self.word_add(p + start, stop - start, rh[rhead])
                    if wid < 0:
                        break
                if wid >= 0:
                    self.wcount[wid] += 1
                    ids_out[tok] = self.wpid[wid]
                else:
                    ids_out[tok] = -1
                tok += 1
                if not self.scan_token(p, n, &scan, &rs[rhead], &re[rhead], &rnl[rhead],
                                       &rh[rhead]):
                    tail_nl = tail_nl or rnl[rhead]
                    rcount -= 1
                rhead = (rhead + 1) % WORD_AHEAD
            if tail_nl and tok > last_end and not self.failed:
                ends_out[nends] = tok
                nends += 1
        self.raise_failure()
        return tok, nends

    def prune_rarest(self, Py_ssize_t max_words):
        """Prune until at most ``max_words`` words are left (word2vec.c's ``ReduceVocab``):
        each round drops the words counted at most ``prune_floor`` times and raises the floor
        by one. Returns the rounds run."""
        cdef int64_t* remap
        cdef Py_ssize_t rounds = 0
        if max_words < 0:
            raise ValueError("max_words must be >= 0")
        while self.nwords > max_words:
            remap = <int64_t*>malloc((self.nwords + 1) * sizeof(int64_t))
            if remap == NULL:
                raise MemoryError()
            with nogil:
                self.compact_words(self.prune_floor, remap)
            free(remap)
            self.prune_floor += 1
            self.prunes += 1
            rounds += 1
        return rounds

    def add_vocab(self, bytes text, const int32_t[::1] pids):
        """Add the words of ``text`` (``"\\n"``-separated, one per id of ``pids``, none holding
        whitespace) with these provisional ids, for ``encode_chunk(..., add=False)``."""
        cdef const uint8_t* p = <const uint8_t*><char*>text
        cdef Py_ssize_t n = len(text), pos = 0, stop, i = 0, m = pids.shape[0]
        cdef int64_t wid
        cdef int64_t old_next = self.next_pid
        if text.count(b"\n") != m or (n and text[n - 1] != 10):
            raise ValueError("add_vocab needs one \\n-terminated word per id")
        for i in range(m):
            if pids[i] < 0:
                raise ValueError("provisional ids must be >= 0")
        i = 0
        self.failed = 0
        with nogil:
            while pos < n:
                stop = pos
                while p[stop] != 10:
                    stop += 1
                wid = self.word_add(p + pos, stop - pos, hash_bytes(p + pos, stop - pos))
                if wid < 0:
                    break
                self.wpid[wid] = pids[i]
                i += 1
                pos = stop + 1
        self.next_pid = old_next
        self.raise_failure()

    def export_vocab(self):
        """(text, counts, pids): the words as UTF-8 lines (``"w\\n"`` each, entry order: first
        appearance), their counts (int64) and provisional ids (int32)."""
        import numpy as np
        text = bytearray(self.warena_len + self.nwords)
        counts = np.empty(self.nwords, dtype=np.int64)
        pids = np.empty(self.nwords, dtype=np.int32)
        cdef uint8_t[::1] t = text
        cdef int64_t[::1] c = counts
        cdef int32_t[::1] q = pids
        cdef Py_ssize_t i, at = 0
        with nogil:
            for i in range(self.nwords):
                if self.wlen[i]:
                    memcpy(&t[at], self.warena + self.woff[i], self.wlen[i])
                at += self.wlen[i]
                t[at] = 10
                at += 1
                c[i] = self.wcount[i]
                q[i] = self.wpid[i]
        return bytes(text), counts, pids


cdef Py_ssize_t _count_newlines(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, k = 0
    for i in range(n):
        k += p[i] == 10
    return k


cdef class PhraseTable(WordTable):
    """Words and n-grams with counts (learning) or phrase numbers (a frozen table).

    The Python side (``cw2v.phrases``) owns the policy: it reads the corpus in chunks, calls
    ``count_chunk`` or ``apply_chunk`` on each, and turns the arrays returned by ``score`` and
    the ``export_*`` methods into phrases. Every method validates its arguments before its
    ``nogil`` block; allocation failures inside raise ``MemoryError`` after it.
    """
    # n-grams
    cdef GramSlot* gslots
    cdef Py_ssize_t gcap
    cdef Py_ssize_t ngrams
    cdef int32_t* garena           # [n, id_0, ..., id_{n-1}] per n-gram longer than 2
    cdef Py_ssize_t garena_len, garena_cap
    # learning state
    cdef readonly int64_t total_words
    cdef readonly Py_ssize_t n_connectors
    cdef public int64_t max_entries
    cdef IdBuffer cand              # learning's pending candidate: a, then connector words
    cdef uint64_t* gfilter          # a membership filter over the n-grams' hashes, as wfilter
    cdef int gfshift
    cdef uint64_t* pfilter          # one over the bigrams' pair_hash of their words' hashes:
    cdef int pfshift                # adjacent words are checked without looking either up

    def __cinit__(self):
        self.gcap = 1024
        self.gslots = <GramSlot*>slots_alloc(self.gcap * sizeof(GramSlot))
        self.garena_cap = 1024
        self.garena = <int32_t*>malloc(self.garena_cap * sizeof(int32_t))
        self.cand.cap = 64
        self.cand.ids = <int32_t*>malloc(self.cand.cap * sizeof(int32_t))
        self.max_entries = (1 << 62)
        if self.gslots == NULL or self.garena == NULL or self.cand.ids == NULL:
            raise MemoryError()

    def __dealloc__(self):
        slots_free(self.gslots, self.gcap * sizeof(GramSlot))
        free(self.garena); free(self.cand.ids)
        free(self.gfilter); free(self.pfilter)

    # -- sizes ----------------------------------------------------------------------------------

    @property
    def n_ngrams(self):
        """N-grams (bigrams, and longer ones through connector words) in the table."""
        return self.ngrams

    @property
    def entries(self):
        """Entries the ``max_entries`` bound counts: words (not connector words) and n-grams."""
        return self.nwords - self.n_connectors + self.ngrams

    @property
    def nbytes(self):
        """Bytes allocated by the table."""
        return (self.wcap * sizeof(WordSlot) + self.wids_cap * (8 + 8 + 8 + 4 + 4 + 1)
                + self.warena_cap + self.gcap * sizeof(GramSlot) + self.garena_cap * 4
                + ((<Py_ssize_t>1 << (64 - self.wfshift)) // 8 if self.wfilter != NULL else 0)
                + ((<Py_ssize_t>1 << (64 - self.gfshift)) // 8 if self.gfilter != NULL else 0)
                + ((<Py_ssize_t>1 << (64 - self.pfshift)) // 8 if self.pfilter != NULL else 0))

    def build_filters(self):
        """Build the membership filters of the words and n-grams now in the table, and the pair
        filter of its bigrams (at pair_hash of their words' hashes), kept up to date by later
        additions; pruning leaves bits of removed entries, which cost only a probe. Lookups
        then answer most absent keys from one bit, and applying without connector words most
        adjacent pairs without a lookup: for a table applied many times, as a frozen one, not
        for one still learning."""
        cdef Py_ssize_t i
        cdef int wshift, gshift, pshift
        cdef uint64_t* wf = filter_new(self.nwords, &wshift)
        cdef uint64_t* gf = filter_new(self.ngrams, &gshift)
        cdef uint64_t* pf = filter_new(self.ngrams, &pshift)
        if wf == NULL or gf == NULL or pf == NULL:
            free(wf); free(gf); free(pf)
            raise MemoryError()
        free(self.wfilter); free(self.gfilter); free(self.pfilter)
        self.wfilter, self.wfshift, self.gfilter, self.gfshift = wf, wshift, gf, gshift
        self.pfilter, self.pfshift = pf, pshift
        with nogil:
            for i in range(self.nwords):
                filter_set(self.wfilter, self.wfshift, self.whash[i])
            for i in range(self.gcap):
                if self.gslots[i].key != 0:
                    filter_set(self.gfilter, self.gfshift, self.slot_hash(&self.gslots[i]))
                    if self.gslots[i].key > 0:
                        self.pair_filter_set(self.gslots[i].key)

    cdef inline void pair_filter_set(self, int64_t key) noexcept nogil:
        # set the pair filter's bit of the bigram of key (a << 32 | b) + 1
        cdef int64_t ab = key - 1
        filter_set(self.pfilter, self.pfshift,
                   pair_hash(self.whash[ab >> 32], self.whash[<uint32_t>ab]))

    # -- n-grams --------------------------------------------------------------------------------

    cdef inline bint gram_matches(self, GramSlot* s, const int32_t* ids, Py_ssize_t n,
                                  int64_t key2) noexcept nogil:
        cdef int64_t off
        if n == 2:
            return s.key == key2
        if s.key >= 0:
            return False
        off = -s.key - 1
        return self.garena[off] == n and memcmp(self.garena + off + 1, ids, n * 4) == 0

    cdef inline Py_ssize_t gram_find(self, const int32_t* ids, Py_ssize_t n) noexcept nogil:
        # the slot of n-gram ids[:n], or -1
        cdef int64_t key2 = 0
        cdef uint64_t h
        cdef Py_ssize_t mask = self.gcap - 1, i
        if n == 2:
            key2 = ((<int64_t>ids[0] << 32) | <int64_t><uint32_t>ids[1]) + 1
            h = mix64(<uint64_t>key2)
        else:
            h = hash_ids(ids, n)
        if self.gfilter != NULL and not filter_has(self.gfilter, self.gfshift, h):
            return -1
        i = <Py_ssize_t>(h & <uint64_t>mask)
        while self.gslots[i].key != 0:
            if self.gram_matches(&self.gslots[i], ids, n, key2):
                return i
            i = (i + 1) & mask
        return -1

    cdef inline void gram_prefetch(self, int32_t a, int32_t b) noexcept nogil:
        # fetch the home slot of bigram (a, b) into the cache, unless the filter rules it out
        cdef uint64_t h = mix64(<uint64_t>(((<int64_t>a << 32) | <int64_t><uint32_t>b) + 1))
        if self.gfilter == NULL or filter_has(self.gfilter, self.gfshift, h):
            prefetch(&self.gslots[h & <uint64_t>(self.gcap - 1)])

    cdef inline uint64_t slot_hash(self, GramSlot* s) noexcept nogil:
        # a slot's hash, from its key (a bigram's) or its ids in the arena
        cdef int64_t off
        if s.key > 0:
            return mix64(<uint64_t>s.key)
        off = -s.key - 1
        return hash_ids(self.garena + off + 1, self.garena[off])

    cdef inline void gram_slot_put(self, GramSlot s) noexcept nogil:
        # s into the first free slot from its home
        cdef Py_ssize_t mask = self.gcap - 1
        cdef Py_ssize_t i = <Py_ssize_t>(self.slot_hash(&s) & <uint64_t>mask)
        while self.gslots[i].key != 0:
            i = (i + 1) & mask
        self.gslots[i] = s

    cdef int double_grams(self) noexcept nogil:
        # Twice the slots, in place: no second table. With cap slots before, an entry's new
        # home is its old one or that plus cap. Entries before the first empty slot (those a
        # cluster wrapped past the end to, and the rest of that cluster) are set aside; then
        # every cluster, all of which now start after an empty slot, is walked from its start:
        # each entry is taken out and put again from its new home. The walk only ever empties
        # slots after the one it is at, and an entry put again lands at or before that slot (or
        # in the new upper half, never emptied, from which a wrap leads into slots walked
        # already), so no entry's probe path crosses a slot emptied after it was put. The
        # entries set aside are put last. -1 (nothing changed) if out of memory.
        cdef Py_ssize_t cap = self.gcap, first_empty = 0, i
        cdef GramSlot* aside = NULL
        cdef GramSlot entry
        cdef void* slots
        while self.gslots[first_empty].key != 0:  # the load is < 1: there is an empty slot
            first_empty += 1
        if first_empty > 0:
            aside = <GramSlot*>malloc(first_empty * sizeof(GramSlot))
            if aside == NULL:
                return -1
        slots = slots_grow(self.gslots, cap * sizeof(GramSlot), 2 * cap * sizeof(GramSlot))
        if slots == NULL:
            free(aside)
            return -1
        self.gslots = <GramSlot*>slots
        self.gcap = 2 * cap
        if first_empty > 0:
            memcpy(aside, self.gslots, first_empty * sizeof(GramSlot))
            memset(self.gslots, 0, first_empty * sizeof(GramSlot))
        for i in range(first_empty + 1, cap):
            if self.gslots[i].key != 0:
                entry = self.gslots[i]
                self.gslots[i].key = 0
                self.gram_slot_put(entry)
        for i in range(first_empty):
            self.gram_slot_put(aside[i])
        free(aside)
        return 0

    cdef int gram_add(self, const int32_t* ids, Py_ssize_t n, int64_t value) noexcept nogil:
        # add value to n-gram ids[:n]'s count, inserting it if new; -1 if out of memory
        cdef int64_t key2 = 0, key
        cdef uint64_t h
        cdef Py_ssize_t mask, i, cap
        cdef void* q
        if n == 2:
            key2 = ((<int64_t>ids[0] << 32) | <int64_t><uint32_t>ids[1]) + 1
            h = mix64(<uint64_t>key2)
        else:
            h = hash_ids(ids, n)
        mask = self.gcap - 1
        i = <Py_ssize_t>(h & <uint64_t>mask)
        while self.gslots[i].key != 0:
            if self.gram_matches(&self.gslots[i], ids, n, key2):
                self.gslots[i].value += value
                return 0
            i = (i + 1) & mask
        if (self.ngrams + 1) * 10 > self.gcap * 7:
            if self.double_grams() != 0:
                return -1
            mask = self.gcap - 1
            i = <Py_ssize_t>(h & <uint64_t>mask)
            while self.gslots[i].key != 0:
                i = (i + 1) & mask
        if n == 2:
            key = key2
        else:
            if self.garena_len + n + 1 > self.garena_cap:
                cap = self.garena_cap * 2
                while cap < self.garena_len + n + 1:
                    cap *= 2
                q = realloc(self.garena, cap * sizeof(int32_t))
                if q == NULL:
                    return -1
                self.garena = <int32_t*>q
                self.garena_cap = cap
            self.garena[self.garena_len] = <int32_t>n
            memcpy(self.garena + self.garena_len + 1, ids, n * 4)
            key = -(self.garena_len + 1)
            self.garena_len += n + 1
        self.gslots[i].key = key
        self.gslots[i].value = value
        self.ngrams += 1
        if self.gfilter != NULL:
            filter_set(self.gfilter, self.gfshift, h)
            if n == 2:
                self.pair_filter_set(key2)
        return 0

    cdef inline Py_ssize_t gram_ids(self, GramSlot* s, int32_t* out2,
                                    const int32_t** ids) noexcept nogil:
        # the ids of slot s's n-gram: returns n and points *ids at them
        cdef int64_t key, off
        if s.key > 0:
            key = s.key - 1
            out2[0] = <int32_t>(key >> 32)
            out2[1] = <int32_t><uint32_t>key
            ids[0] = out2
            return 2
        off = -s.key - 1
        ids[0] = self.garena + off + 1
        return self.garena[off]

    # -- pruning (word2phrase's ReduceVocab) --------------------------------------------------------

    cdef int prune(self, int64_t floor, int64_t* remap) noexcept nogil:
        # Drop words (not connector words) and n-grams counted <= floor; ids are renumbered in
        # order (remap[old] = new id or -1), n-grams holding a dropped word are dropped too.
        cdef Py_ssize_t i, n, k
        cdef GramSlot* old = self.gslots
        cdef Py_ssize_t old_cap = self.gcap
        cdef int32_t* ga
        cdef int32_t two[2]
        cdef int32_t buf[256]
        cdef int32_t* tmp
        cdef const int32_t* ids
        cdef bint ok
        self.compact_words(floor, remap)
        # n-grams: re-add the survivors into fresh slots and a fresh arena
        self.gslots = <GramSlot*>slots_alloc(old_cap * sizeof(GramSlot))
        ga = self.garena
        self.garena = <int32_t*>malloc(self.garena_cap * sizeof(int32_t))
        if self.gslots == NULL or self.garena == NULL:
            slots_free(old, old_cap * sizeof(GramSlot))
            free(ga)
            return -1
        self.garena_len = 0
        self.ngrams = 0
        for i in range(old_cap):
            if old[i].key == 0 or old[i].value <= floor:
                continue
            if old[i].key > 0:
                two[0] = <int32_t>((old[i].key - 1) >> 32)
                two[1] = <int32_t><uint32_t>(old[i].key - 1)
                ids = two
                n = 2
            else:
                n = ga[-old[i].key - 1]
                ids = ga + (-old[i].key - 1) + 1
            if n <= 256:
                tmp = &buf[0]
            else:
                tmp = <int32_t*>malloc(n * sizeof(int32_t))
            if tmp == NULL:
                slots_free(old, old_cap * sizeof(GramSlot))
                free(ga)
                return -1
            ok = True
            for k in range(n):
                tmp[k] = <int32_t>remap[ids[k]]
                if tmp[k] < 0:
                    ok = False
            if ok and self.gram_add(tmp, n, old[i].value) != 0:
                ok = False
                self.failed = FAIL_MEMORY
            if tmp != &buf[0]:
                free(tmp)
        slots_free(old, old_cap * sizeof(GramSlot))
        free(ga)
        self.prunes += 1
        return -1 if self.failed else 0

    cdef int prune_to_bound(self, int64_t* prefix) noexcept nogil:
        # Prune, raising the floor by one each time, until the bound holds again; prefix (the
        # pending candidate's first word) follows the renumbering (-1 if it was dropped).
        cdef int64_t* remap
        while self.nwords - self.n_connectors + self.ngrams > self.max_entries:
            remap = <int64_t*>malloc((self.nwords + 1) * sizeof(int64_t))
            if remap == NULL:
                return -1
            if self.prune(self.prune_floor, remap) != 0:
                free(remap)
                return -1
            if prefix[0] >= 0:
                prefix[0] = remap[prefix[0]]
            free(remap)
            self.prune_floor += 1
        return 0

    cdef int add_pairs(self, const int64_t* keys, Py_ssize_t n) noexcept nogil:
        # count the bigrams keys[:n] ((a << 32 | b) + 1), whose slots were prefetched
        cdef int32_t two[2]
        cdef Py_ssize_t i
        for i in range(n):
            two[0] = <int32_t>((keys[i] - 1) >> 32)
            two[1] = <int32_t><uint32_t>(keys[i] - 1)
            if self.gram_add(two, 2, 1) != 0:
                return -1
        return 0

    cdef inline bint scan_word(self, const uint8_t* p, Py_ssize_t end, Py_ssize_t* scan,
                               Py_ssize_t* start, Py_ssize_t* stop, bint* newline,
                               uint64_t* h) noexcept nogil:
        # the next word from p[scan[0]:end]: its bounds, whether a "\n" came before it, its hash
        # (its slot is prefetched); False at the end
        cdef Py_ssize_t q = scan[0], b
        cdef uint64_t hash
        cdef bint nl = False
        while q < end and is_space(p[q]):
            if p[q] == 10:
                nl = True
            q += 1
        if q >= end:
            scan[0] = q
            return False
        newline[0] = nl
        b = word_end_hash(p, q, end, &hash)
        self.found_word(q, b, hash, scan, start, stop, h)
        return True

    cdef inline int cand_room(self, Py_ssize_t n) noexcept nogil:
        # room for n ids in the pending candidate (self.cand); -1 (failed set) if out of memory
        if id_room(&self.cand, n) != 0:
            self.failed = FAIL_MEMORY
            return -1
        return 0

    # -- learning -------------------------------------------------------------------------------

    def add_connector(self, bytes word):
        """Add ``word`` as a connector word (before any counting); returns its id."""
        if self.nwords != self.n_connectors:
            raise RuntimeError("connector words must be added before any other word")
        wid = self.word_add(<const uint8_t*><char*>word, len(word),
                            hash_bytes(<const uint8_t*><char*>word, len(word)))
        if wid < 0:
            raise MemoryError()
        if not self.wconn[wid]:
            self.wconn[wid] = 1
            self.n_connectors += 1
        return wid

    def count_chunk(self, const uint8_t[::1] buf, bint final, Py_ssize_t skip):
        """Count the words and n-grams of ``buf``.

        Parameters
        ----------
        buf : bytes-like
            Text; when ``final`` is False, the bytes after its last whitespace (a word the
            chunk may cut) are not read.
        final : bool
            ``buf`` ends a file (or a batch of whole sentences): everything is read and the
            sentence ends.
        skip : int
            The first ``skip`` words were counted by the previous call (they are carried over
            to give the n-gram that starts with them its context): read, not counted.

        Returns
        -------
        (consumed, skip) : (int, int)
            Bytes from which the next call must start again (the pending candidate: its first
            word and connector words after it, and a cut word), and how many words of them are
            counted already.
        """
        cdef const uint8_t* p = &buf[0] if buf.shape[0] > 0 else NULL
        cdef Py_ssize_t n = buf.shape[0], end = n, pos = 0, start, tok_index = 0
        cdef Py_ssize_t cand_off = -1, cand_tok = 0, ncand = 0
        cdef int64_t wid, prefix = -1, key2
        cdef int64_t pairs[PAIR_BLOCK]
        cdef Py_ssize_t npairs = 0
        cdef bint counting, over
        cdef Py_ssize_t rs[WORD_AHEAD]
        cdef Py_ssize_t re[WORD_AHEAD]
        cdef uint64_t rh[WORD_AHEAD]
        cdef bint rnl[WORD_AHEAD]
        cdef Py_ssize_t rcount = 0, rhead = 0, scan = 0
        cdef uint64_t h
        cdef uint64_t home            # a bigram's home slot
        if skip < 0:
            raise ValueError("skip must be >= 0")
        self.failed = 0
        with nogil:
            if not final:
                while end > 0 and not is_space(p[end - 1]):
                    end -= 1
            # words are found and hashed, and their slots prefetched, WORD_AHEAD words early
            while rcount < WORD_AHEAD and self.scan_word(p, end, &scan, &rs[rcount],
                                                         &re[rcount], &rnl[rcount], &rh[rcount]):
                rcount += 1
            while rcount > 0:
                start = rs[rhead]
                pos = re[rhead]
                h = rh[rhead]
                if rnl[rhead]:  # a "\n" before this word: the sentence ended
                    prefix = -1
                    ncand = 0
                    cand_off = -1
                if not self.scan_word(p, end, &scan, &rs[rhead], &re[rhead], &rnl[rhead],
                                      &rh[rhead]):
                    rcount -= 1
                rhead = (rhead + 1) % WORD_AHEAD
                counting = tok_index >= skip
                tok_index += 1
                wid = self.word_add(p + start, pos - start, h)
                if wid < 0:
                    break
                if counting:
                    self.total_words += 1
                if self.n_connectors and self.wconn[wid]:
                    if prefix >= 0:  # a connector word inside a candidate
                        if self.cand_room(ncand + 1) != 0:
                            break
                        self.cand.ids[ncand] = <int32_t>wid
                        ncand += 1
                    continue
                if counting:
                    self.wcount[wid] += 1
                    if prefix >= 0 and ncand == 1:
                        # a bigram: its slot is fetched now, counted PAIR_BLOCK bigrams later;
                        # with the slot three after it, so that a probe run crossing into the
                        # next cache line (4 slots a line) does not miss there
                        key2 = ((prefix << 32) | <int64_t><uint32_t>wid) + 1
                        pairs[npairs] = key2
                        npairs += 1
                        home = mix64(<uint64_t>key2) & <uint64_t>(self.gcap - 1)
                        prefetch(&self.gslots[home])
                        prefetch(&self.gslots[(home + 3) & <uint64_t>(self.gcap - 1)])
                    elif prefix >= 0:
                        self.cand.ids[0] = <int32_t>prefix
                        if self.cand_room(ncand + 1) != 0:
                            break
                        self.cand.ids[ncand] = <int32_t>wid
                        if self.gram_add(self.cand.ids, ncand + 1, 1) != 0:
                            self.failed = FAIL_MEMORY
                            break
                # this word ends one candidate and starts the next
                prefix = wid
                ncand = 1
                cand_off = start
                cand_tok = tok_index - 1
                over = self.nwords - self.n_connectors + self.ngrams + npairs > self.max_entries
                if npairs == PAIR_BLOCK or over:
                    if self.add_pairs(pairs, npairs) != 0:
                        self.failed = FAIL_MEMORY
                        break
                    npairs = 0
                    if self.nwords - self.n_connectors + self.ngrams > self.max_entries:
                        if self.prune_to_bound(&prefix) != 0:
                            self.failed = FAIL_MEMORY
                            break
                        if prefix < 0:
                            ncand = 0
                            cand_off = -1
            if not self.failed:
                if self.add_pairs(pairs, npairs) != 0:
                    self.failed = FAIL_MEMORY
                elif self.nwords - self.n_connectors + self.ngrams > self.max_entries:
                    if self.prune_to_bound(&prefix) != 0:
                        self.failed = FAIL_MEMORY
                    elif prefix < 0:
                        cand_off = -1
        self.raise_failure()
        if final or cand_off < 0:
            return end, 0
        return cand_off, tok_index - cand_tok

    # -- scoring --------------------------------------------------------------------------------

    def score(self, int scoring, int64_t min_count, double threshold, int64_t total_words,
              int64_t[::1] slots_out, double[::1] scores_out):
        """Score every n-gram by word2phrase's rule and keep those above ``threshold``.

        For an n-gram a ... b counted ``count(ab)`` times (Mikolov et al. 2013, section 4):
        default: ``(count(ab) - min_count) / count(a) / count(b) * total_words``; npmi (gensim's
        ``npmi_scorer``): ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))``, p(x) = count(x) /
        total_words. Only n-grams with count(a), count(b) and count(ab) all >= min_count are
        scored; one is kept when its score is > threshold (strictly).

        Returns the number kept; their slots and scores are in ``slots_out`` / ``scores_out``
        (each at least ``n_ngrams`` long).
        """
        cdef Py_ssize_t i, kept = 0, n
        cdef int32_t two[2]
        cdef const int32_t* ids
        cdef int64_t ca, cb, cab
        cdef double s, pa, pb, pab, N = <double>total_words
        if slots_out.shape[0] < self.ngrams or scores_out.shape[0] < self.ngrams:
            raise ValueError("output arrays shorter than n_ngrams")
        if scoring != SCORE_DEFAULT and scoring != SCORE_NPMI:
            raise ValueError("unknown scoring")
        with nogil:
            for i in range(self.gcap):
                if self.gslots[i].key == 0:
                    continue
                cab = self.gslots[i].value
                if cab < min_count:
                    continue
                n = self.gram_ids(&self.gslots[i], two, &ids)
                ca = self.wcount[ids[0]]
                cb = self.wcount[ids[n - 1]]
                if ca < min_count or cb < min_count or ca <= 0 or cb <= 0:
                    continue
                if scoring == SCORE_DEFAULT:
                    s = (<double>(cab - min_count)) / <double>ca / <double>cb * N
                else:
                    pa = ca / N
                    pb = cb / N
                    pab = cab / N
                    if pab >= 1.0:
                        continue
                    s = log(pab / (pa * pb)) / -log(pab)
                if s > threshold:
                    slots_out[kept] = i
                    scores_out[kept] = s
                    kept += 1
        return kept

    # -- export / import ------------------------------------------------------------------------

    def export_words(self):
        """(blob, offsets, counts, connector): the words' bytes back to back (uint8), where
        word i is ``blob[offsets[i]:offsets[i + 1]]`` (int64), counts (int64), connector flags
        (uint8), in id order."""
        import numpy as np
        blob = np.empty(self.warena_len, dtype=np.uint8)
        offsets = np.empty(self.nwords + 1, dtype=np.int64)
        counts = np.empty(self.nwords, dtype=np.int64)
        conn = np.empty(self.nwords, dtype=np.uint8)
        cdef uint8_t[::1] b = blob
        cdef int64_t[::1] o = offsets, c = counts
        cdef uint8_t[::1] f = conn
        cdef Py_ssize_t i, at = 0
        with nogil:
            for i in range(self.nwords):
                o[i] = at
                if self.wlen[i]:
                    memcpy(&b[at], self.warena + self.woff[i], self.wlen[i])
                at += self.wlen[i]
                c[i] = self.wcount[i]
                f[i] = self.wconn[i]
            o[self.nwords] = at
        return blob, offsets, counts, conn

    def export_ngrams(self, const int64_t[::1] slots):
        """(ids, offsets, values) of the n-grams in ``slots`` (``all_slots()`` for all): word
        ids back to back (int32), n-gram i is ``ids[offsets[i]:offsets[i + 1]]`` (int64), and
        each one's count or phrase number (int64)."""
        import numpy as np
        cdef Py_ssize_t m = slots.shape[0], i, k, n, total = 0
        cdef int32_t two[2]
        cdef const int32_t* ids
        for i in range(m):
            if slots[i] < 0 or slots[i] >= self.gcap or self.gslots[slots[i]].key == 0:
                raise IndexError("not an n-gram slot")
        out_off = np.empty(m + 1, dtype=np.int64)
        out_val = np.empty(m, dtype=np.int64)
        cdef int64_t[::1] o = out_off, v = out_val
        with nogil:
            for i in range(m):
                o[i] = total
                total += self.gram_ids(&self.gslots[slots[i]], two, &ids)
            o[m] = total
        out_ids = np.empty(total, dtype=np.int32)
        cdef int32_t[::1] d = out_ids
        with nogil:
            for i in range(m):
                n = self.gram_ids(&self.gslots[slots[i]], two, &ids)
                for k in range(n):
                    d[o[i] + k] = ids[k]
                v[i] = self.gslots[slots[i]].value
        return out_ids, out_off, out_val

    def all_slots(self):
        """The slots of every n-gram (int64), in table order."""
        import numpy as np
        out = np.empty(self.ngrams, dtype=np.int64)
        cdef int64_t[::1] o = out
        cdef Py_ssize_t i, k = 0
        with nogil:
            for i in range(self.gcap):
                if self.gslots[i].key != 0:
                    o[k] = i
                    k += 1
        return out

    def add_words(self, const uint8_t[::1] blob, const int64_t[::1] offsets,
                  const int64_t[::1] counts):
        """Add words ``blob[offsets[i]:offsets[i + 1]]`` with ``counts[i]`` added to their
        counts; returns the total count added. Words must hold no whitespace."""
        cdef Py_ssize_t m = counts.shape[0], i, a, b
        cdef int64_t wid, added = 0
        cdef const uint8_t* p = &blob[0] if blob.shape[0] > 0 else NULL
        if offsets.shape[0] != m + 1:
            raise ValueError("offsets must be one longer than counts")
        for i in range(m):
            if offsets[i] < 0 or offsets[i] > offsets[i + 1] or offsets[i + 1] > blob.shape[0]:
                raise ValueError("offsets out of range")
        self.failed = 0
        with nogil:
            for i in range(m):
                a = offsets[i]
                b = offsets[i + 1]
                wid = self.word_add(p + a, b - a, hash_bytes(p + a, b - a))
                if wid < 0:
                    self.failed = FAIL_MEMORY
                    break
                self.wcount[wid] += counts[i]
                added += counts[i]
        if self.failed:
            raise MemoryError()
        return added

    def add_ngrams(self, const int32_t[::1] ids, const int64_t[::1] offsets,
                   const int64_t[::1] values):
        """Add n-grams ``ids[offsets[i]:offsets[i + 1]]`` (word ids of this table, at least 2
        each) with ``values[i]`` added to their counts."""
        cdef Py_ssize_t m = values.shape[0], i
        if offsets.shape[0] != m + 1:
            raise ValueError("offsets must be one longer than values")
        for i in range(m):
            if offsets[i] < 0 or offsets[i + 1] - offsets[i] < 2 or offsets[i + 1] > ids.shape[0]:
                raise ValueError("bad n-gram offsets")
        for i in range(ids.shape[0]):
            if ids[i] < 0 or ids[i] >= self.nwords:
                raise ValueError("n-gram word id out of range")
        self.failed = 0
        with nogil:
            for i in range(m):
                if self.gram_add(&ids[offsets[i]], offsets[i + 1] - offsets[i], values[i]) != 0:
                    self.failed = FAIL_MEMORY
                    break
        if self.failed:
            raise MemoryError()

    def set_state(self, int64_t total_words, int64_t prune_floor, int64_t prunes):
        """Restore the counters of a saved table."""
        self.total_words = total_words
        self.prune_floor = prune_floor
        self.prunes = prunes

    def word_id(self, bytes word):
        """The id of ``word``, or -1."""
        return self.word_find(<const uint8_t*><char*>word, len(word),
                              hash_bytes(<const uint8_t*><char*>word, len(word)))

    def word_value(self, bytes word):
        """The count of ``word``, or 0 if it is not in the table."""
        cdef int64_t wid = self.word_find(<const uint8_t*><char*>word, len(word),
                                          hash_bytes(<const uint8_t*><char*>word, len(word)))
        return 0 if wid < 0 else self.wcount[wid]

    def ngram_value(self, const int32_t[::1] ids):
        """The count (or phrase number) of the n-gram of word ids ``ids``, or 0 if absent."""
        if ids.shape[0] < 2:
            raise ValueError("an n-gram has at least 2 words")
        cdef Py_ssize_t s = self.gram_find(&ids[0], ids.shape[0])
        return 0 if s < 0 else self.gslots[s].value

    # -- applying -------------------------------------------------------------------------------

    cdef inline int scan_clean(self, const uint8_t* p, Py_ssize_t end, bint final,
                               Py_ssize_t* scan, Py_ssize_t* start, Py_ssize_t* stop,
                               bint* newline, uint64_t* h) noexcept nogil:
        # apply_clean's scanner: the next word of p[scan[0]:end] as scan_word finds it (1), the
        # end (0), or -1 if the gap before it is not clean: a gap is one space between words,
        # or line ends only. The word's slot is not prefetched.
        cdef Py_ssize_t q = scan[0], gap = scan[0], k
        cdef bint nl = False
        while q < end and is_space(p[q]):
            q += 1
        if q > gap:
            if p[gap] == 32:
                if q - gap != 1 or gap == 0 or (q == end and final):
                    return -1
            else:
                for k in range(gap, q):
                    if p[k] != 10:
                        return -1
                nl = True
        scan[0] = q
        newline[0] = nl
        if q >= end:
            return 0
        start[0] = q
        scan[0] = stop[0] = word_end_hash(p, q, end, h)
        return 1

    cdef Py_ssize_t apply_clean(self, const uint8_t* p, Py_ssize_t end, bint final, uint8_t dl,
                                uint8_t* out, bint* line_start, Py_ssize_t* consumed,
                                IdBuffer* cand) noexcept nogil:
        # apply_chunk for clean text and a one-byte delimiter: words separated by one space,
        # lines by "\n" only (no other whitespace, no space at a line's start or end). Then
        # the output is the text itself with the space inside each phrase replaced by the
        # delimiter: the text is copied at once and patched. Returns the bytes written, -1
        # (nothing consumed) for text that is not clean, -2 if out of memory; the same joins as
        # apply_chunk's general loop, which documents the rule. cand: scratch for candidates.
        cdef Py_ssize_t shift = 0 if line_start[0] or end == 0 or p[0] == 10 else 1
        cdef Py_ssize_t cand_off = -1, written
        cdef int status
        out[0] = 32  # (written only when shift: the space before this text's first word)
        memcpy(out + shift, p, end)
        if self.n_connectors == 0 and self.pfilter != NULL:
            status = self.join_pairs(p, end, final, dl, out + shift, &cand_off)
        else:
            status = self.join_candidates(p, end, final, dl, out + shift, &cand_off, cand)
        if status != 0:
            return status
        # what the general loop writes: everything before the pending candidate (it is read
        # again with the next chunk), or the whole text; a gap's space only before a word
        if final or cand_off < 0:
            consumed[0] = end
        else:
            consumed[0] = cand_off
        written = consumed[0]
        if written > 0 and p[written - 1] == 32:
            written -= 1
        if written == 0:
            return 0
        line_start[0] = p[written - 1] == 10
        return written + shift

    cdef int join_pairs(self, const uint8_t* p, Py_ssize_t end, bint final, uint8_t dl,
                        uint8_t* out, Py_ssize_t* pending) noexcept nogil:
        # apply_clean's joins when there are no connector words (a candidate is one word) and
        # the pair filter is built: each pair of adjacent words is first checked in the pair
        # filter from the words' hashes alone, and only a pair it does not rule out (the
        # phrases, and 3-6% of the others) looks its words and bigram up. out is the copy of p
        # to patch; the offset of the pending candidate (-1: none) goes to pending. Returns
        # 0, or -1 if the text is not clean.
        cdef Py_ssize_t scan = 0, start, stop, prev_start = 0, prev_stop = 0
        cdef uint64_t h, prev_h = 0
        cdef bint newline, has_prev = False   # has_prev: a pending candidate, at prev_start
        cdef int found
        while True:
            found = self.scan_clean(p, end, final, &scan, &start, &stop, &newline, &h)
            if found <= 0:
                if found < 0:
                    return -1
                # a line end after the last word ends its candidate
                pending[0] = prev_start if has_prev and not newline else -1
                return 0
            if newline:  # a line ended before this word
                has_prev = False
            if (has_prev and filter_has(self.pfilter, self.pfshift, pair_hash(prev_h, h))
                    and self.pair_joins(p, prev_start, prev_stop, prev_h, start, stop, h)):
                out[prev_stop] = dl  # the space between the two words
                has_prev = False
                continue
            has_prev = True
            prev_h = h
            prev_start = start
            prev_stop = stop

    cdef inline bint pair_joins(self, const uint8_t* p, Py_ssize_t a0, Py_ssize_t a1,
                                uint64_t ha, Py_ssize_t b0, Py_ssize_t b1,
                                uint64_t hb) noexcept nogil:
        # whether words p[a0:a1] and p[b0:b1], of hashes ha and hb, are a bigram of the table
        # (reads the table only: join_pairs writes nothing but its output)
        cdef int64_t wa = self.word_find(p + a0, a1 - a0, ha)
        cdef int64_t wb
        cdef int32_t ids[2]
        if wa < 0:
            return False
        wb = self.word_find(p + b0, b1 - b0, hb)
        if wb < 0:
            return False
        ids[0] = <int32_t>wa
        ids[1] = <int32_t>wb
        return self.gram_find(ids, 2) >= 0

    cdef int join_candidates(self, const uint8_t* p, Py_ssize_t end, bint final, uint8_t dl,
                             uint8_t* out, Py_ssize_t* pending, IdBuffer* cand) noexcept nogil:
        # apply_clean's joins in general: a candidate is a word and the connector words after
        # it; the words are looked up in order, their slots prefetched WORD_AHEAD words early.
        # Arguments and result as join_pairs', and -2 if out of memory; the candidate's ids go
        # to cand.
        cdef Py_ssize_t start, stop, ncand = 0, cand_off = -1, k
        cdef int64_t wid
        cdef Py_ssize_t* grown_ends
        cdef Py_ssize_t rs[WORD_AHEAD]
        cdef Py_ssize_t re[WORD_AHEAD]
        cdef uint64_t rh[WORD_AHEAD]
        cdef bint rnl[WORD_AHEAD]
        cdef Py_ssize_t rcount = 0, rhead = 0, scan = 0
        cdef int found
        cdef int64_t next_wid = -1
        cdef bint tail_nl = False
        # the candidate's words: ids in cand.ids, where each word ends in cend
        cdef Py_ssize_t cend_cap = 64
        cdef Py_ssize_t* cend = <Py_ssize_t*>malloc(cend_cap * sizeof(Py_ssize_t))
        if cend == NULL:
            return -2
        while rcount < WORD_AHEAD:
            found = self.scan_clean(p, end, final, &scan, &rs[rcount], &re[rcount],
                                    &rnl[rcount], &rh[rcount])
            if found < 0:
                free(cend)
                return -1
            if found == 0:
                tail_nl = rnl[rcount]
                break
            self.word_prefetch(rh[rcount])
            rcount += 1
        if rcount > 0:
            next_wid = self.word_find(p + rs[0], re[0] - rs[0], rh[0])
        while rcount > 0:
            start = rs[rhead]
            stop = re[rhead]
            wid = next_wid
            if rnl[rhead]:  # a line ended before this word
                ncand = 0
                cand_off = -1
            found = self.scan_clean(p, end, final, &scan, &rs[rhead], &re[rhead], &rnl[rhead],
                                    &rh[rhead])
            if found < 0:
                free(cend)
                return -1
            if found == 0:
                tail_nl = tail_nl or rnl[rhead]
                rcount -= 1
            else:
                self.word_prefetch(rh[rhead])
            rhead = (rhead + 1) % WORD_AHEAD
            # the next word is looked up a step early, so that the slot of the bigram it may
            # end (this word, the next) can be fetched while this word is handled
            if rcount > 0:
                next_wid = self.word_find(p + rs[rhead], re[rhead] - rs[rhead], rh[rhead])
                if wid >= 0 and next_wid >= 0:
                    self.gram_prefetch(<int32_t>wid, <int32_t>next_wid)
            if wid >= 0 and self.n_connectors and self.wconn[wid]:
                if ncand == 0:
                    continue  # a connector word outside a candidate: as it is
            elif ncand > 0:
                if wid >= 0 and cand.ids[0] >= 0:
                    cand.ids[ncand] = <int32_t>wid
                    if self.gram_find(cand.ids, ncand + 1) >= 0:
                        for k in range(ncand):  # the space after each word but b
                            out[cend[k]] = dl
                        ncand = 0
                        cand_off = -1
                        continue
                ncand = 0
            if ncand == 0:
                cand_off = start
            if id_room(cand, ncand + 2) != 0:
                free(cend)
                return -2
            if ncand + 1 >= cend_cap:
                grown_ends = <Py_ssize_t*>realloc(cend, 2 * cend_cap * sizeof(Py_ssize_t))
                if grown_ends == NULL:
                    free(cend)
                    return -2
                cend = grown_ends
                cend_cap *= 2
            cand.ids[ncand] = <int32_t>wid
            cend[ncand] = stop
            ncand += 1
        free(cend)
        # a line end after the last word ends its candidate
        pending[0] = -1 if tail_nl or ncand == 0 else cand_off
        return 0

    def apply_chunk(self, const uint8_t[::1] buf, bint final, const uint8_t[::1] delimiter,
                    uint8_t[::1] out, bint line_start):
        """Join the phrases of ``buf`` (greedily, left to right) into ``out``.

        Words are written separated by one space, lines by ``"\\n"``; a phrase's words
        (a, connector words, b) are written joined by ``delimiter``. A candidate is a word
        followed by connector words; the next non-connector word b ends it: if the n-gram is in
        the table the candidate and b are written as one token and the next candidate starts
        after b (Mikolov et al. 2013, section 4: "b" cannot also join the next word); if not,
        the candidate's words are written as they are and b starts the next candidate.

        Parameters
        ----------
        buf : bytes-like
            Text; when ``final`` is False the bytes after its last whitespace are not read.
        final : bool
            ``buf`` ends the text: a pending candidate is written out.
        delimiter : bytes-like
            What joins a phrase's words.
        out : writable uint8 buffer
            At least ``len(buf) * (1 + len(delimiter)) + 2`` bytes.
        line_start : bool
            Nothing has been written on the current output line yet.

        Returns
        -------
        (consumed, written, line_start) : (int, int, bool)
            Bytes of ``buf`` read (the pending candidate and a cut word are left for the next
            call), bytes written to ``out``, and the new ``line_start``.
        """
        cdef const uint8_t* p = &buf[0] if buf.shape[0] > 0 else NULL
        cdef const uint8_t* dl = &delimiter[0] if delimiter.shape[0] > 0 else NULL
        cdef Py_ssize_t dn = delimiter.shape[0]
        cdef Py_ssize_t n = buf.shape[0], end = n, pos = 0, start, o = 0, k
        cdef Py_ssize_t ncand = 0, cand_off = -1
        cdef int64_t wid
        # the candidate's words: their ids in cand, their offsets/lengths in toks (this call's
        # own: the table is only read, so threads may apply it at once)
        cdef IdBuffer cand
        cdef Py_ssize_t* toks
        cdef Py_ssize_t toks_cap = 64
        cdef Py_ssize_t* grown_toks
        cdef uint64_t h, cand_h = 0
        cdef bint joined, failed = False
        # without connector words, adjacent words are checked in the pair filter (join_pairs)
        cdef bint by_pairs = self.n_connectors == 0 and self.pfilter != NULL
        if out.shape[0] < n * (1 + dn) + 2:
            raise ValueError("out is too small")
        toks = <Py_ssize_t*>malloc(2 * toks_cap * sizeof(Py_ssize_t))
        cand.cap = 64
        cand.ids = <int32_t*>malloc(cand.cap * sizeof(int32_t))
        if toks == NULL or cand.ids == NULL:
            free(toks); free(cand.ids)
            raise MemoryError()
        cdef Py_ssize_t clean_consumed = 0, clean_written = -1
        cdef bint clean_line_start = line_start
        with nogil:
            if not final:
                while end > 0 and not is_space(p[end - 1]):
                    end -= 1
            if dn == 1:
                clean_written = self.apply_clean(p, end, final, dl[0], &out[0], &clean_line_start,
                                                 &clean_consumed, &cand)
        if clean_written >= 0 or clean_written == -2:
            free(toks); free(cand.ids)
            if clean_written == -2:
                raise MemoryError("out of memory while applying phrases")
            return clean_consumed, clean_written, clean_line_start
        with nogil:
            while True:
                # the next word, or a line end, or the end of the text
                while pos < end and is_space(p[pos]) and p[pos] != 10:
                    pos += 1
                if pos >= end or p[pos] == 10:
                    if ncand > 0 and (pos < end or final):
                        for k in range(ncand):  # flush the candidate word by word
                            if not line_start:
                                out[o] = 32
                                o += 1
                            memcpy(&out[o], p + toks[2 * k], toks[2 * k + 1])
                            o += toks[2 * k + 1]
                            line_start = False
                        ncand = 0
                        cand_off = -1
                    if pos >= end:
                        break
                    out[o] = 10
                    o += 1
                    line_start = True
                    pos += 1
                    continue
                start = pos
                pos = word_end_hash(p, pos, end, &h)
                if by_pairs:  # looked up only if the pair filter lets its pair through
                    wid = -1
                else:
                    wid = self.word_find(p + start, pos - start, h)
                if wid >= 0 and self.n_connectors and self.wconn[wid]:
                    if ncand == 0:  # a connector word outside a candidate
                        if not line_start:
                            out[o] = 32
                            o += 1
                        memcpy(&out[o], p + start, pos - start)
                        o += pos - start
                        line_start = False
                        continue
                else:
                    joined = False
                    if ncand > 0:
                        if by_pairs:  # as join_pairs: the candidate is one word, toks[0:2]
                            joined = (filter_has(self.pfilter, self.pfshift, pair_hash(cand_h, h))
                                      and self.pair_joins(p, toks[0], toks[0] + toks[1], cand_h,
                                                          start, pos, h))
                        elif wid >= 0 and cand.ids[0] >= 0:
                            cand.ids[ncand] = <int32_t>wid
                            joined = self.gram_find(cand.ids, ncand + 1) >= 0
                        if not line_start:
                            out[o] = 32
                            o += 1
                        line_start = False
                        for k in range(ncand):
                            if k > 0:
                                if joined:
                                    memcpy(&out[o], dl, dn)
                                    o += dn
                                else:
                                    out[o] = 32
                                    o += 1
                            memcpy(&out[o], p + toks[2 * k], toks[2 * k + 1])
                            o += toks[2 * k + 1]
                        ncand = 0
                        cand_off = -1
                        if joined:
                            memcpy(&out[o], dl, dn)
                            o += dn
                            memcpy(&out[o], p + start, pos - start)
                            o += pos - start
                            continue
                    # this word starts a candidate
                    cand_off = start
                    cand_h = h
                if id_room(&cand, ncand + 2) != 0:
                    failed = True
                    break
                if ncand + 1 >= toks_cap:
                    grown_toks = <Py_ssize_t*>realloc(toks, 4 * toks_cap * sizeof(Py_ssize_t))
                    if grown_toks == NULL:
                        failed = True
                        break
                    toks = grown_toks
                    toks_cap *= 2
                cand.ids[ncand] = <int32_t>wid
                toks[2 * ncand] = start
                toks[2 * ncand + 1] = pos - start
                ncand += 1
        free(toks); free(cand.ids)
        if failed:
            raise MemoryError("out of memory while applying phrases")
        if ncand > 0 and not final:
            return cand_off, o, line_start
        return end, o, line_start
