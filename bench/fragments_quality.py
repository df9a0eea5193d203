"""Fragment translation QUALITY (issue 17, "Measured"): precision and coverage, both directions.

    .venv/bin/python bench/fragments_quality.py                 # ~10 min on 2 cores
    .venv/bin/python bench/fragments_quality.py --queries 150   # quicker
    .venv/bin/python bench/fragments_quality.py --methods grow-diag-final-and,intersection,union
    .venv/bin/python bench/fragments_quality.py --prose         # other prose as new text (step 8)
    .venv/bin/python bench/fragments_quality.py --wmt-queries 2000 --fit   # the issue's set in full (step 13)

Data, read in place from ../shared/data/parallel (never copied):
* WMT: newstest2020 as new text (zho-eng: Chinese queries, English references; eng-zho:
  English queries, Chinese references) against the other years (2017, 2018, 2019 both
  directions, 2021). newstestB2020 (the same sources, second independent references) is the
  second reference of each WMT query: a rendering counts as RIGHT when it is in ANY reference
  (the output says so; the first reference's figure is printed beside it in brackets).
* TICO-19 and Tatoeba: a seeded random ``--queries`` pairs of each are held out as new text,
  the rest goes into the memory.
One memory of all the rest, one alignment model trained on it (CEDICT, pinyin and the demo
glossary as priors): what a user of the service would have.

Per direction and data set: fragments found and shown (their best rendering's confidence at
or above the threshold) and per query; PRECISION: the first rendering shown appears in the
query's reference after normalising case, punctuation and English plural -s (renderings of
function words only are never shown, see tm.core.renderings.acceptable); the share of queries
with at least one correct fragment; beside them the share with a whole-segment match of 70
or more (tm.core.index) and with a demo glossary term. Then the precision/coverage curve over
the threshold, and the operating point: the lowest threshold whose precision reaches
``--target`` on the other data sets (leave-one-data-set-out), reported on the held-out one,
beside the in-sample choice. 50 random shown fragments go to /tmp/frag_judge.tsv for judging
by hand.

Fragments are found as the service finds them: ``find_fragments`` over a ``FragmentIndex`` of
the memory's sources (one per direction), with the demo glossary's terms in the query passed
as ``glossary_spans``.

Runs with the real finder (2026-12-03, --queries 300, memory 42,825 pairs, trained in 76 s):
  step 1, the finder swapped in, confidence as before (WEIGHTS fitted on the stand-in's
  records, MIN_CONFIDENCE 0.5):
  zh→en  900 queries, 1,759 fragments found; at 0.5: 284 shown, precision 0.729, 18.4% of
         queries covered; weights refitted on the other two sets (--fit): 0.717, 17.1%.
         At 0: precision 0.39, 38% covered. Per set at 0.75 (in-sample): WMT 0.83, TICO 0.74,
         Tatoeba 0.62.
  en→zh  900 queries, 1,148 found; at 0.5: 74 shown, precision 0.662, 5.0% covered
         (held-out weights 0.606, 4.1%).
  The stand-in measured 0.720 / 18.8% and 0.65 / 2.4%: the real finder finds more English
  fragments (snapping and trimming instead of rejecting edges), about the same Chinese ones.

  step 2, projections no longer extended over edge words the span cannot produce
  (wordalign.EXTEND_MIN_T), the dictionary's support as two confidence features, weights
  refitted (--fit) and MIN_CONFIDENCE chosen leave-one-data-set-out (0.60/0.60/0.55 for
  WMT/TICO/Tatoeba held out; 0.6 taken):
  zh→en  held out (each set with weights fitted on the other two), at 0.6: precision 0.737,
         15.2% covered; at 0.55: 0.713, 18.2%; at 0.5: 0.639, 23.0%; at 0.4: 0.541, 30.3%.
         In-sample: 0.6 → 0.741, 14.6%; 0.55 → 0.745, 19.3%; 0.65 → 0.753, 12.3%.
         Per set, threshold and weights chosen without it: WMT 0.750 (19.0% covered), TICO
         0.723 (18.7%), Tatoeba 0.738 (9.7%).
  en→zh  held out at 0.6: 0.577, 3.0% covered; at 0.5: 0.523, 8.0% (in-sample 0.630, 7.7%).
  The extension alone (old weights and threshold 0.5) moved zh→en from 0.729 / 18.4% to
  0.707 / 21.4% and en→zh from 0.662 / 5.0% to 0.639 / 8.8%; the support features then buy
  about two points of precision at equal coverage above 0.55, nothing below. Precision by
  reference match stays a plateau near 0.75: the renderings shown at 0.6 and judged "wrong"
  are mostly right translations the reference words otherwise (see the hand judgement).

  step 3 (2026-12-03), the second WMT reference, and two glossary features
  (renderings.glossary_support; the model keeps its glossary term pairs), weights refitted on
  "right in any reference" (--fit), MIN_CONFIDENCE kept at 0.6 (held-out choices 0.60 WMT,
  0.50 TICO-19, 0.55 Tatoeba). zh→en held out, any reference (first reference alone):
    at 0.6   precision 0.757 (0.721), covered 20.1% (19.1%)   in-sample 0.788 (0.733), 21.1%
    at 0.55  0.735 (0.688), 22.9%;  at 0.5  0.683 (0.623), 27.8%;  at 0.4  0.578 (0.523), 34.6%
  the same records, six features (--features 6, no glossary): at 0.6 0.754 (0.721), 19.9%;
  at 0.5 0.674 (0.614), 27.2%. So the second reference moves precision by 3-4 points; the
  glossary features by 0.3 (their use is the rendering seen once that names glossary terms:
  the demo's seed institute goes from 0.47 to 0.66). en→zh held out at 0.6: 0.633 (0.608),
  5.1%. The target (0.75 with 30% of zh→en queries covered) is NOT met: 0.757 at 20%, or 30%
  at about 0.65 precision.

  By hand, 50 random fragments shown at the step-3 settings (--load of its records, no --fit:
  /tmp/frag_judge.tsv; 39 zh→en, 11 en→zh): 45 usable as they are (90%), 36 in a reference.
  The five others are cut short: 另一方面 → "other hand", 以下简称 → "hereinafter referred",
  迄今为止 → "far", 伊朗宣布 → "announced", 合作备忘录 → "cooperation". Most of the 14 not
  in a reference are right and worded otherwise (coronavirus, I don't know, WHO, nucleic acid
  testing, other countries).

  step 4 (2026-12-04), two changes, weights refitted (--fit) with the parts among the examples,
  MIN_CONFIDENCE kept at 0.6:
  * a fragment with no rendering at or above the threshold gives way to the best of its parts
    (tm.core.fragments.fragment_parts: the three maximal sub-runs in the most units; their
    renderings tried, the part whose first shown rendering is the most confident stands in);
  * renderings grow over the words next to them that most of their units share
    (tm.core.renderings.extend_by_agreement: 另一方面 → "On the other hand", 以下简称 →
    "hereinafter referred to as", 食品安全 → "food safety").
  zh→en, any reference (first reference alone), held out | in-sample:
    at 0.6   precision 0.767 (0.711), covered 27.9% (26.4%)  | 0.776, 27.9%
    at 0.55  0.734 (0.671), 30.0%;  at 0.5  0.681, 33.7%;  at 0.65  0.778, 23.7%;  at 0.7  0.806, 19.2%
  The parts alone (before the growing) gave 0.766, 28.7% at 0.6 and 0.744, 31.4% at 0.55; the
  growing costs a little on the reference measure (a longer rendering is in the reference less
  often) and buys whole phrases by hand. Leave-one-data-set-out choices: 0.55 for each of
  WMT, TICO-19 and Tatoeba (pooled at those: 0.734, 30.0%); 0.6 is kept because the target's
  precision is the constraint a translator feels (0.55 misses it held out, 0.734), and at
  0.6 it is met held out with 27.9% covered. en→zh held out at 0.6: 0.619, 9.0% (0.633, 5.1%
  before). The target (0.75 with 30% of zh→en queries covered) is still NOT met: the frontier
  passes about two points short of it (0.767 at 27.9%, 0.734 at 30.0%).
  By hand, 50 random fragments shown at these settings (--load of the step-4 records, no
  --fit; 33 zh→en, 17 en→zh): 43 usable as they are (86%). The seven others: 证据表明 →
  "evidence", 各项工作 → "work", 医务人员 → "medical", 世界各地 → "world" (twice: its units
  split between "around the world", "all over the world", "across the world", so none of
  them has a majority), and 卫生健康 → "Health" (twice: a part cut from 国家卫生健康委员会).
  What the parts cost a lookup (bench/fragment_lookup.py --units 20000 --queries 150 --reuse
  --skip startup,train, the code before step 4 and after, one after the other under the
  machine's bench lock, load average 1.0-1.1): the fragment step's median added time, warm,
  went from 2.1 ms to 10.1 ms (zh; p99 5.6 → 32.7) and from 2.0 to 10.2 ms (en; p99 6.2 →
  31.0), with 0.01 → 0.62 (zh) and 0.01 → 0.39 (en) fragments shown per spliced query: their
  halves are long runs held by one unit, whose parts are held by many and are now translated
  and shown. On the quality bench the parts add 0.87 translated parts per zh→en query (6.7
  units projected, beside 9.2 for the fragments themselves). Keeping one part instead of
  three (MAX_PARTS = 1) gives 0.762, 27.2% held out at 0.6 (against 0.767, 27.9%) but saves
  less than it seems: 0.46 parts per query, 5.1 units projected (the first part is the one in
  the most units); parts only for fragments held by one or two units: 0.766, 27.0%, 5.1
  units. The knob left if the 10 ms budget at a million units is not met: fewer units
  sampled for a part than for a fragment (not measured).
  Tried and left out, all on these records or runs like them:
  * a feature "share of the units tried whose whole target holds the rendering": held out at
    0.6 precision 0.789 with 36.0% covered (en→zh 0.755, 20.6%), the target met on paper; but
    by hand only 35 of 50 were usable: it favours renderings cut short of their phrase
    ("sustainable" for 可持续发展, "Friendship" for 友谊勋章), which a reference holds as often
    as the phrase. Counting only occurrences not followed by a content word did not separate
    them either ("status around the world"). A measure by reference substring rewards
    shortness: judge any gain by hand too.
  * showing the most confident of a fragment and its parts even when the fragment has a
    rendering: +1 point of precision at equal coverage, all from parts cut short ("acute
    respiratory" instead of "acute respiratory distress syndrome").
  * grouping renderings without their edge function words ("of peaceful development" with
    "peaceful development"): 0.756, 28.7% at 0.6 (worse); growing on content words that only
    two units share, without a majority: 0.756, 27.8% (worse); ranking a fragment's
    renderings by confidence instead of units: +0.3 points of coverage (noise); the number of
    units tried, squares and products of the features, indicators of no or full dictionary
    support: each moves along the same frontier, none off it.

  step 5 (2026-12-04), the confidence's features again; nothing landed. The model retrained
  here (348 s, load average 14-19) gives a hair less than step 4: zh→en held out at 0.6 0.762,
  27.8% (0.55: 0.734, 30.0%; in-sample 0.778, 27.9%), en→zh 0.619, 9.0%. New: the curve's
  last column and the held-out line give the share of ONE-WORD renderings shown (36% at 0.6),
  and ``--errors N`` prints wrong shown fragments and fragments with nothing shown. Each
  feature below added to the eight, weights refitted leave-one-data-set-out, zh→en held out
  at 0.6 (then the most queries covered at held-out precision >= 0.75, threshold on a 0.005
  grid, which peeks at the held-out set: base 28.6% at 0.585):
  * Gains on paper, all bought by shortness: the rendering's content words (log, weight
    -0.64) 0.762, 29.6% (31.0% at 0.58); units whose TARGET holds the rendering (log, weight
    +0.46) with the fragment's own units 0.738, 32.7% (30.4% at 0.63, with 59% one-word
    renderings against 36%); the phrase-table backward probability (share of the units holding the
    rendering that hold the fragment) gets weight -1.61: a rendering specific to its fragment
    is LESS often in the reference; 0.721, 32.3%. Newly shown: "law" for 依法治国, "poverty"
    for 脱贫致富, "world" for 世界各国, "Organisation" for 经济合作与发展组织; lost: "severe
    acute respiratory syndrome", "developing countries". Content-word share of the rendering
    0.733, 29.0% (0.787, 25.2% at 0.65) is the same effect.
  * Along the frontier: units holding the fragment, all of them not the sample (log) 0.759,
    27.4% (29.7% at 0.58; but the script's own choice, 0.60/0.55/0.55, gives 0.746, 29.1%);
    fragment length 0.765, 27.1%; stand-in part 0.755, 27.2%; length ratio 0.745, 28.4%;
    rendering ends / starts on a function word 0.763, 27.6% / 0.751, 27.6%; margin over the
    second rendering 0.760, 27.4%; units of the renderings with the same content words
    ("around the world", "all over the world") 0.764, 27.6%; direction, alone 0.752, 28.6%,
    and times the other features 0.735, 28.7%; without projection and lexical weight 0.775,
    27.2%; the fragment's units, the family's and the length together 0.760, 26.9% (each set
    at its own held-out threshold 0.756, 29.4%). Trailing conjunctions trimmed ("attended the
    meeting and", 49 renderings): unchanged. Thresholds on a 0.01 grid chosen leave-one-out:
    0.55/0.53/0.54, 0.732, 30.2%. Single-unit renderings the dictionary supports fully both
    ways: 289 first renderings, 43% right; no indicator rescues them.
  * Long jieba words aligned as their dictionary parts (医务人员 → 医务 人员, 世界各地 → 世界
    各地, 发挥作用 → 发挥 作用: words of 4+ characters split into the fewest dictionary words
    of 2+; the dictionary's support still read on whole words), model retrained (zh vocabulary
    41,113 → 37,981): zh→en held out at 0.6 0.767, 27.4% (0.55: 0.737, 29.7%; 0.65: 0.798,
    23.7% against 0.777, 23.4%; in-sample 0.782, 27.3%), one-word renderings 36% → 30%;
    en→zh 0.604, 8.8% (against 0.619, 9.0%); with Chinese spans widened to whole words,
    zh→en 0.765, 26.8%, en→zh 0.594, 8.2%. Not landed (en→zh worse, zh→en even at 0.6), but
    by hand the 81 fragments whose shown rendering changed are mostly better: "all over the
    world" for "world" (世界各地), "this morning", "artificial intelligence", "medical staff"
    among the renderings, and newly shown "electron microscope", "infection fatality rate",
    "diplomatic relations", "World War II"; "far" (迄今为止), "work" (各项工作), "including"
    no longer shown; lost: "industrial structure", "Washington University", "lymphocyte",
    "building" before "a community of a shared future". The patch is kept outside the tree
    (/work/data/fragcov/split_tokens.patch). A second draw (--seed 2021: other queries, other
    TICO-19 and Tatoeba units in the memory, both models retrained) reverses it: zh→en held
    out at 0.6 0.739, 25.3% with the parts against 0.758, 25.8% without; en→zh 0.659, 14.1%
    against 0.650, 13.1%.
  The draw itself moves the frontier by as much as the target's gap: at --seed 2021 the
  baseline gives zh→en held out 0.758, 25.8% at 0.6 and 0.706, 28.8% at 0.55 (25.9% at best
  with precision >= 0.75, against 28.6% at the default seed); differences of a point between
  variants on one draw are not evidence.
  So the reference measure's frontier stands near 0.75 at 28.6% for every honest feature
  tried, and what crosses it does so with renderings cut short. Most wrong ones shown are
  right and worded otherwise (mainland China, AI, Meanwhile, WHO, your problem, Tom knows /
  knew). Records of this run: /work/data/fragcov/base.pkl (--load).

  step 6 (2026-12-04), better renderings instead of features (brief C, issue 17); nothing
  landed. Every variant on two draws (--seed 2020 | --seed 2021, --queries 300, --fit), the
  baseline retrained for each (147 s and 150 s at load 6-8); "frontier" is the new held-out
  frontier line (coverage at held-out precision >= 0.75, a 0.005 grid that peeks). zh→en
  held out at 0.6 precision, covered, one-word share | frontier | en→zh held out at 0.6:
    baseline        0.762 27.8% .36 | 28.6% | 0.619  9.0%  ||  0.759 25.8% .33 | 25.9% | 0.650 13.1%
    dictionary ext  0.770 26.8% .34 | 29.0% | 0.619  8.7%  ||  0.759 24.9% .32 | 25.9% | 0.652 13.0%
    + other table   0.767 27.1% .34 | 29.1% | 0.626  8.6%  ||  0.756 25.0% .32 | 26.0% | 0.641 12.4%
    + parts support 0.763 26.9% .35 | 27.8% | 0.583  8.0%  ||  0.764 24.6% .30 | 25.4% | 0.663 13.1%
    VB over entries 0.759 25.6% .28 | 28.9% | 0.610  8.2%  ||  0.750 23.7% .30 | 23.7% | 0.688 11.6%
    VB + dictionary 0.760 25.6% .28 | 28.7% | 0.610  8.2%  ||  0.749 23.2% .29 | 22.8% | 0.682 11.4%
    EM 5 + 8 iter.  0.770 27.4% .35 | 28.4% | 0.629  9.3%  ||  0.753 25.2% .34 | 25.2% | 0.673 13.4%
    100 units/frag  0.769 27.0% .36 | 28.1% | 0.603  8.6%  ||  0.755 25.2% .33 | 25.2% | 0.652 12.8%
  (at 0.55 the baseline gives 0.734, 30.0% | 0.707, 28.8%; EM 5 + 8 gives 0.746, 30.0% on the
  first draw and 0.706, 28.7% on the second.) In-sample figures sit 0.5-2 points of precision
  above the held-out ones throughout, as before.
  * What the wrong ones are (--errors 40, baseline, first draw, 89 zh→en renderings shown and
    in no reference, read by hand): about 70 right and worded otherwise (AI, WHO, Meanwhile,
    coronavirus for "CoVs", Tom knows / knew, mainland China), 10 cut short (保持稳定 →
    "stable", 各项工作 → "work", 客户服务 → "customers", 集中力量 → "Focus", 伊朗宣布 →
    "announced", 这个问题 → "problem"), 7 ending on a function word ("attended the meeting
    and", "closely related to", "know how to"), 2 wrong (香港特区 → "Secretary"). The cut-short
    ones the reference HOLDS ("medical" for 医务人员 in "medical workers") count as right and
    are not in that list: that is why every fix of them below loses on the measure.
  * Why they are cut short: a long jieba word is one token, the model links it to one English
    word and leaves the head unaligned (食品安全 → "food" with "safety" linked to a comma;
    医务人员 → "medical", "staff" to nothing), and the extension over unaligned edge words
    stops at a word the table does not back: t(safety | 食品安全) is at the floor (1e-7), and
    t(food | 食品安全) is only 0.004. The variational estimate's denominator adds VB_ALPHA once
    per word of the English vocabulary (0.01 x 27,143 = 271 pseudo-counts), where fast_align
    adds it once per pair the table holds for the word; so every word seen a few times keeps
    t(e | word) in the thousandths and the second word of a compound starves.
  * "dictionary ext": the extension also takes an edge word CC-CEDICT gives as a sense of a
    word of the span or of its dictionary parts (食品安全 → "food safety", 医务人员 → "medical
    staff", 卫生系统 → "health systems"); "+ other table": or that t(span word | it) of the
    other direction backs. At the service's weights and 0.6 they change 16 shown renderings
    on the two draws: 9 cut-short ones no longer shown ("medical" twice, "systems", "supply"
    twice for 市场供应, "innovation" for 技术创新, "normal" for 恢复正常, "members" for
    家庭成员, "Headquarters"), all of which the measure counts right; 3 made whole ("US
    Senate", "Union for Foreign Affairs Policy", "reverse transcription polymerase chain
    reaction"); 4 newly shown ("on Monday", "South China Morning Post", "shopping centers",
    "cruise missiles."). Better by hand, equal or worse on the measure (the whole rendering's
    units split between "medical staff", "medical personnel", "medical workers", none then
    confident). Branch fragcov-dictext (tests included), not merged.
  * "+ parts support": the dictionary's support of a long word counted as the share of its
    dictionary parts held (医务人员 → "medical" holds half): down on both draws.
  * "VB over entries": fast_align's denominator, model retrained (212 s): one-word renderings
    36% → 28%, coverage down 2 points on both draws, the frontier down 2.2 points on the
    second; by hand as many lost ("Johns Hopkins University", "intensive care", "antiviral
    treatment") as gained ("Chinese women's volleyball", "strategic cooperation"). Dropped.
  * "EM 5 + 8 iter.": MODEL1_ITERATIONS 3 → 5, DIAGONAL_ITERATIONS 4 → 8 (331 s): up on the
    first draw at 0.55, down on the second. Dropped. "100 units/frag" (SAMPLE 50 → 100, the
    bench's sample; 24 of 1,759 zh→en fragments have more than 50 units): down on both.
  * Grouping renderings that differ only by an article would merge renderings in 4 of the
    1,759 zh→en fragments: not tried further.
  * Symmetrisation (--methods union,intersection, weights refitted for each): union 0.736,
    20.7% | 0.728, 19.1% at 0.6, frontier 14.6% | 16.1%: far worse. Intersection crosses on
    paper: zh→en frontier 30.3% | 29.4% (threshold 0.635 | 0.615), at 0.6 0.730, 33.7% |
    0.721, 31.1%, en→zh at 0.6 0.629, 18.3% | 0.685, 24.6% (twice the coverage); with the
    dictionary extension (branch fragcov-dictext) frontier 30.2% | 29.6%, at 0.6 0.740, 32.3%
    | 0.750, 28.6%, the bench's own leave-one-out choice 0.745, 31.3% | 0.739, 27.0%. But it
    is bought by shortness, as the features were: one-word renderings at the frontier 0.42 |
    0.38 (0.37 | 0.37 with the dictionary) against 0.35 | 0.33; of the renderings newly shown
    at 0.6 (in-sample weights) 160 of 269 are one word (66 of 150 with the dictionary), and
    by hand 20 of 40 of those are cut short or wrong: "world" for 世界各国 five times, "China"
    for 中国坚持 and 中国发布, "Russia" for 俄罗斯向意大利, "study" for 研究表明, "hand" for
    免洗杀菌洗手液, "project" for 项目负责人 (against 7 of 50 at the baseline's settings). It
    also loses "world peace" (6 queries), "Chinese people" (6), "food safety". Sparse links
    leave the box at the one word both directions agree on. Not landed. Per direction
    (grow-diag-final-and for zh→en, intersection for en→zh; the two runs' records joined,
    one weight set fitted over both directions as the service has): en→zh at 0.6 0.667,
    18.6% | 0.717, 24.1% (one-word 0.47 | 0.49 against 0.39 | 0.40), and zh→en falls to a
    frontier of 25.6% | 24.8% (the shared weights move). Not landed.
  So on this measure the frontier stays at 28.6% | 25.9% for every extraction, agreement and
  model lever tried that does not shorten renderings; the levers that make renderings whole
  lower it, because the reference holds the head word alone as often as the whole phrase, and
  the one that crosses it (intersection) shows half-phrases. Records (--load):
  /work/data/C-runs/<variant>-<seed>.pkl; logs beside them.

  step 7 (2026-12-05, evening), the part chosen by a pilot (tm.core.renderings.choose_part:
  parts ranked on 10 of their units, then translated on all of them in that order until one
  is shown) instead of all parts translated on all their units and the most confident shown,
  for the fragment step's time at a million units. The records of one run hold both (each
  part's pilot beside its full renderings); ``--no-pilot`` scores them the old way, and
  reproduces step 6's baseline figures to the digit on both draws. --seed 2020 | --seed 2021,
  --queries 300, --fit, zh→en held out at 0.6 precision, covered | frontier | en→zh held
  out at 0.6:
    old choice  0.762 27.8% | 28.6% at 0.585 | 0.619 9.0%  ||  0.758 25.8% | 25.9% | 0.650 13.1%
    pilot       0.764 27.9% | 29.1% at 0.580 | 0.619 9.0%  ||  0.761 25.9% | 26.0% | 0.650 13.1%
  (0.55: 0.736, 30.2% against 0.734, 30.0%.) Flat, a hair up on both draws: the first part
  shown in the pilot's order is at least as often right as the most confident one. At a
  million units the pilot cuts the cold fragment step by 15-17% (bench/fragment_lookup.py).
  Logs and records: /work/data/q/{pilot,nopilot}-<seed>.{log,pkl}.

  step 8 (2026-12-06, night), nothing landed on these sets; other prose measured. --seed
  2020 | 2021, --queries 300, --fit, the step-7 baseline reproduced (frontier 29.1% | 26.0%).
  * The runs the cover cut (find_fragments keeps the longest run and trims the runs it
    overlaps down to their part outside it): 254 maximal runs in 191 of 900 zh→en queries
    lose their overlapping part. Offered whole, after the cover, wherever they do not overlap
    a fragment or part already shown: frontier 28.9% (against 29.1%) on the first draw. Dropped.
  * The part chosen without a pilot (the parts in fragment_parts' order, by units, the
    first with a rendering shown; a third of the units a cold step projects at a million):
    frontier 28.6% | 25.9% against 29.1% | 26.0%. With a pilot of 5 units instead of 10:
    28.6% | 26.0%. The pilot of 10 stays: coverage is the scarcer of the two targets.
  * Other prose (``--prose``): novels (two chapters of mac-dev held out, four in the memory),
    academic and magazine articles (nonlit-aca, nonlit-mag: the last third of each file held
    out), 300 queries each, beside the same memory, scored with the service's WEIGHTS and
    MIN_CONFIDENCE (never fitted on this prose). zh→en, precision / covered at 0.6:
      novel 0.600 / 2.0% | 0.417 / 1.7%; academic 0.412 / 8.3% | 0.408 / 8.7%;
      magazine 0.418 / 7.0% | 0.473 / 8.0%; pooled 0.429 / 5.8% | 0.435 / 6.1%
    en→zh pooled 0.525 / 3.6% | 0.540 / 3.8%. Precision by reference does not rise with the
    threshold (zh→en pooled, first draw: 0.373 at 0.4, 0.428 at 0.5, 0.422 at 0.65, 0.351 at
    0.7). By hand, 50 random fragments shown on the first draw (33 zh→en, 17 en→zh): 45 usable
    as they are (90%), against 24 in the reference. Most "wrong" ones are a term its
    reference words otherwise ("immune response" for 免疫反应 where the reference has
    "immunologic reaction", ten times; "US Navy" against "U. S. Navy"; "e-commerce" against
    "electronic commerce"). The five not usable: 好莱坞电影 → "Hollywood", 降低成本 → "costs"
    (cut short), "with the actual" → 实际, "at the University" → 大学 (English fragments of
    function words around one content word), 营养不良 → "malnutrition" inside 外胚层营养不良
    (dystrophy). So on prose unlike the memory, few fragments are shown (6% of zh→en
    queries), and those are as usable as on the news sets; the reference measure, which
    already counted right renderings worded otherwise as wrong on news, says 0.43 here.

  step 9 (2026-12-06, night), the growing counts witnesses, not units (landed). At a million
  units (bench/fragment_lookup.py) the memory holds each real sentence in about twenty edited
  copies, and a part like 注册选民 had 15 of its 50 sampled units from one sentence: copies agree
  on every word around the fragment, so extend_by_agreement took their agreement for the
  memory's. Now a unit's evidence is its witness, the two source words on each side of the
  fragment with digits folded (tm.core.renderings._witness): 50 units of 注册选民 are 3
  witnesses. Weights unchanged. --seed 2020 | 2021, --fit, zh→en held out at 0.6 precision,
  covered | frontier | en→zh held out at 0.6:
    units      0.764 27.9% | 29.1% | 0.619 9.0%  ||  0.761 25.9% | 26.0% | 0.650 13.1%
    witnesses  0.766 28.1% | 29.2% | 0.616 8.9%  ||  0.764 26.0% | 26.4% | 0.652 13.4%
  The shown renderings that change at the service's weights (8 on the two draws): "better
  life" (美好生活, twice) and the dates "2020 年 4 月 10 日" (twice) and 纸巾 for "a paper
  towel" newly shown; "of the Standing Committee of" no longer; 一条新裙子给我 → 一条新裙子;
  "over forty" → "forty" for 四十多岁 (the one change for the worse by hand). The 1M run's
  注册选民 itself still shows "percent of the registered voters cast their": that span is the
  projection of 15 copies, which outnumber the other renderings' units; counting a
  rendering's units by witness too would change the confidence's features (not done).

  step 10 (2026-12-06, morning), an abbreviation with its dots and without is one rendering
  (landed): rendering_key folded "U.S." to "u s", apart from "US", so 美国经济's units split
  between "U.S. economy" (3) and "US economy" (1), neither confident enough; now "U.S." and
  "US", "U.N." and "UN" share a key (letters joined by dots lose them). The key is also the
  measure's normalisation of punctuation, which it now follows for abbreviations. This
  machine's model retrained for each draw, each run beside the other in the same session,
  --fit, zh→en held out at 0.6 precision, covered | frontier | en→zh held out at 0.6:
    before     0.766 28.1% | 29.3% | 0.616 8.9%  ||  0.763 26.0% | 26.4% | 0.652 13.4%
    dotted     0.768 28.2% | 29.4% | 0.619 9.0%  ||  0.765 26.2% | 26.9% | 0.651 13.3%
  At the service's weights and threshold the shown fragments of the first draw differ in two
  (美国经济 → "U.S. economy" newly shown, twice, right): small, the right direction on both
  draws, and what a translator expects of grouping.

  step 11 (2026-12-06, later), the lexical weighting dropped from the confidence (landed). Its
  weight had been -0.008 since step 2 ("adds nothing beside the dictionary's support"), and
  at a million units it was a tenth of the fragment step (bench/fragment_lookup.py). The model
  retrained for each draw (186 s), --fit, seven features against eight; zh→en held out at 0.6
  precision, covered | frontier | at 0.55 | en→zh held out at 0.6:
    with it    0.768 28.2% | 29.4% | 0.737 30.3%  || 0.766 26.2% | 26.9% | 0.717 29.1%
    without    0.774 26.9% | 29.3% | 0.741 30.2%  || 0.765 26.2% | 27.2% | 0.723 29.9%
    en→zh      with 0.619 9.0% | 0.651 13.3%; without 0.606 8.7% | 0.655 13.2%
  In-sample the curves are the same to a point. WEIGHTS refitted (the default draw, all sets).
  WMT newstest2020 alone, the issue's own set (zh→en, weights fitted on TICO-19 and Tatoeba,
  seeds 2020 | 2021): at 0.6 0.812, 27.7% | 0.848, 27.7%; at 0.55 0.762, 31.7% | 0.779,
  33.7% (with the lexical weighting: 0.783, 29.0% | 0.851, 28.0% and 0.754, 32.7% | 0.775,
  31.7%). So on news alone the target (0.75 with 30% covered) holds at 0.55 on both draws; but
  the threshold chosen without WMT (the lowest where TICO-19 and Tatoeba together reach 0.75)
  is 0.55 on the first draw (0.762, 31.7%) and 0.65 on the second (0.870, 23.7%), so held out
  it holds on one draw of two. MIN_CONFIDENCE stays 0.6, chosen on all three sets.
  By hand, 50 random fragments shown at the new WEIGHTS and 0.6 (--load of this step's first
  draw, --judge; 32 zh→en, 18 en→zh): 46 usable as they are (92%), 37 in a reference. The four
  others: three cut short (新型冠状病毒 → "coronavirus", 呼吸系统 → "respiratory", 医务人员 →
  "medical") and one with a leading function word ("of the founding of the People's Republic
  of China" for 中华人民共和国成立).

  step 12 (2026-12-06, afternoon), other forms of the confidence model, fitted offline on this
  bench's records (--dump of --seed 2020 and 2021 at 1a652db, the model retrained for each;
  the service's projections are those of before, see bench/fragment_lookup.py: the baseline
  frontier is 29.0% | 27.3% here against 29.3% | 27.2% at step 11, the retrained models'
  difference). Each form fitted leave-one-data-set-out as --fit does (standardised features,
  ridge 1 unless said), zh→en held-out frontier | at 0.6 | each set at the threshold chosen on
  the other two:
    the seven features             29.4% | 0.766 27.4% | 0.742 30.2%  ||  27.1% | 0.761 26.1% | 0.740 26.1%
    + their squares (first five)   28.3% | 0.737 29.8% | 0.737 29.8%  ||  28.0% | 0.734 29.7% | 0.737 27.9%
    + pairwise products (five)     28.6% | 0.757 28.6% | 0.716 30.2%  ||  24.1% | 0.714 27.8% | 0.731 25.7%
      the same, ridge 5            28.7% | 0.764 28.7% | 0.731 30.2%  ||  25.7% | 0.723 26.9% | 0.714 27.4%
    + bins of the unit count       29.3% | 0.742 29.9% | 0.742 29.9%  ||  25.9% | 0.730 29.6% | 0.727 27.8%
  None moves the frontier on both draws (squares: down 1.1 on the first, up 0.9 on the second):
  the ranking the linear model gives is not what stops the coverage. Nothing landed.

  step 13 (2026-12-06, evening), the issue's own set in full, and no rendering ends on a conjunction.
  * The issue measures WMT newstest2020 as new text against a memory of the other years (with
    TICO-19 and Tatoeba). The steps above pooled 300 newstest2020 queries with 300 of TICO-19
    and 300 of Tatoeba, held out by data set: a harder, noisier protocol (a 300-query share has
    a standard error of 2.6 points, the size of the target's gap). ``--wmt-queries 2000`` takes
    every newstest2020 query (the first 300 drawn as before, so the TICO-19 and Tatoeba draws
    and the pooled figures stay comparable), and ``report_issue_set`` holds the set out by
    article as the developers' guide asks: the file has no document ids but runs its articles
    contiguously, so ten blocks of contiguous lines, each scored with weights fitted on every
    other record and the threshold chosen on the other nine blocks. Models retrained for each
    draw (--seed 2020 | 2021), zh→en, RIGHT in either reference (first reference alone):
      held out at 0.6    0.815 (0.715), 33.7% (30.7%)  |  0.820 (0.718), 33.8% (30.7%)
      in-sample at 0.6   0.816 (0.715), 33.8% (30.8%)  |  0.824 (0.722), 34.0% (30.9%)
      at 0.55            0.771 (0.674), 36.5% (33.1%)  |  0.767 (0.677), 37.3% (34.2%)
    The threshold chosen on the other blocks is 0.55 in every block of both draws; the service
    keeps 0.6 (chosen on all three sets, where 0.55 misses the precision), which on this set
    meets the target with four points to spare held out (with the service's own WEIGHTS, not
    refitted: one point, step 14). The first 300 of these queries are the sample
    of the steps above: 29.3% | 31.7% covered at 0.6 there, so that sample was unlucky on the
    first draw. en→zh at 0.6: 0.720, 13.9% | 0.701, 13.9%.
  * By hand, 50 random fragments shown at 0.6 on the first draw (--judge; 41 zh→en, 9 en→zh,
    mostly WMT now): 40 usable as they are (80%). Not usable: cut short (新型冠状病毒 →
    "coronavirus", 市委书记 → "Municipal", 两国关系 → "relations between"), a fragment cut
    from a name (展出-新华网, "in the New" → 新), over-extended (社保基金 → "National Council
    for Social Security Fund"), 对中国政府 → "government", 传染性 for "is most contagious", and
    two ending on "and": "State Councilor and" (国务委员), "National Development and" (国家发展).
  * So no rendering now begins or ends with an article or a conjunction, nor a Chinese one with
    the particle 的, even where the word translates one of the span (tm.core.wordalign
    NEVER_AT_EDGE, NEVER_FIRST: the projection's trimming and extend_by_agreement). The issue's
    set, held out at 0.6: 0.815 (0.716), 34.0% (31.0%) | 0.821 (0.720), 34.0% (30.9%); at 0.55
    0.765, 37.3% | 0.760, 38.4%; en→zh 0.723, 14.3% | 0.704, 14.4%. The steps' protocol (the
    first 300 queries, --fit; frontier | at 0.6 held out): 30.4% | 0.775 28.2% against 29.0% |
    0.780 27.4% on the first draw, 27.1% | 0.762 26.3% against 27.3% | 0.765 26.2% on the
    second. By hand, 50 random fragments shown at 0.6 on the first draw: 41 usable (82%); the
    nine others are cut short (这个男孩 → "boy", 迄今为止 → "far", 保持稳定 → "stable", 中华文化
    → "culture", 认真落实 → "conscientiously", 有限公司 → "Co", 卫生健康 → "Health", 为贯彻落实
    → "order to implement") and one wrong (以限制伊朗 → "Iran to limit Iran"). Cut-short
    renderings are what is left to mend (step 6's dictionary extension mended some, at a cost
    on this measure that the set's four points of margin could now bear).

  step 14 (2026-12-06, evening), the confidence counts units by witness (landed). At a million
  units (bench/fragment_lookup.py --text news, which now checks the shown fragments against
  newstest2020's references) precision was 0.496 zh→en and 0.332 en→zh, against 0.80 here:
  that memory holds each real sentence in about twenty edited copies, and a fragment held by
  one sentence had twenty units agreeing ("shift its" for 常住人口 at 0.86, "killed by" for 一个
  多月, "eco-friendly products will be" for 环保产品). Step 9 made the growing count witnesses;
  now log_units and share do too (a rendering's distinct witnesses, over the units tried with
  the projected ones counted by witness); Rendering.units stays the count of units. WEIGHTS
  unchanged. Here, where copies are few, the issue's set held out at 0.6 (--fit): 0.819
  (0.716), 34.3% (31.0%) | 0.820 (0.718), 34.3% (31.0%) against step 13's 0.815, 34.0% |
  0.821, 34.0%; with WEIGHTS as they stand (what the service shows), WMT zh→en at 0.6 0.807,
  30.7% | 0.808, 31.0% against 0.802, 31.1% | 0.804, 31.5%. The steps' protocol: frontier
  30.3% | 26.9% (30.4% | 27.1% before), at 0.6 0.769 27.2% | 0.752 26.1%; en→zh on WMT 0.716,
  13.9% | 0.702, 14.2% (0.723, 14.3% | 0.704, 14.4%). At a million units: zh→en 0.684 with
  32.2% of queries covered (52.3% before, most of it wrong), en→zh 0.606, 13.4%. Refitting
  WEIGHTS on these records (2,000 WMT queries) was tried: it drops the glossary's weights
  (0.538, 1.487 → 0.135, 0.727; the demo glossary names few WMT terms) and with them the seed
  institute's rendering below the threshold, so WEIGHTS stay. By hand, 50 random fragments
  shown at 0.6 on the first draw (--load, --judge, WEIGHTS): 44 usable (88%); the six others
  cut short (这个计划 → "plan", 紧急措施 → "emergency", 医务人员 → "medical", 市场供应 →
  "supply", 有限公司 → "Co", 新型冠状病毒 → "coronavirus").
  Run again on another machine (2026-12-06, late; first draw, the model retrained): the same
  figures (held out at 0.6 0.819 (0.716), 34.3% (31.1%, a tenth more); en→zh 0.716, 13.9%).
  A threshold of its own for en→zh, looked at on these records: held out by block it takes
  0.65-0.80 to reach 0.75 (0.748 with 7.3% of queries covered, against 0.716 with 13.9% at
  0.6), and on the pooled curve held out precision rises only from 0.708 at 0.6 to 0.739 at 0.7
  while coverage falls from 10.4% to 7.0%: the confidence separates right Chinese renderings
  from wrong ones poorly, and half the coverage for three points is no gain to a translator.
  One threshold stays.

  By hand, 50 random fragments shown at the step-2 settings (MIN_CONFIDENCE 0.6, WEIGHTS;
  --load of the step-2 records; 33 zh→en, 17 en→zh): 44 usable as they are (88%), 37 in the
  reference. The six others: four renderings short of a content word (食品安全 → "food",
  卫生系统 → "systems", 医务人员 → "medical", 新型冠状病毒 → "coronavirus"), one English
  fragment cut from a name ("in the New" of New York → 新), one wrong sense (I'm not going →
  我不会).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import math
import pickle
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data" / "parallel"
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tm.core import wordalign  # noqa: E402
from tm.core.fragments import SAMPLE, FragmentIndex, find_fragments, fragment_parts, fragment_units  # noqa: E402
from tm.core.renderings import (  # noqa: E402
    FEATURES,
    MIN_CONFIDENCE,
    WEIGHTS,
    GlossaryIndex,
    StoredUnit,
    pilot_units,
    rendering_key,
    translate_fragment,
)
from tm.core.wordalign import AlignmentModel, align  # noqa: E402

THRESHOLDS = [round(0.05 * k, 2) for k in range(0, 20)]


def _lines(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8-sig").splitlines()


def _pairs(stem: str) -> list[tuple[str, str]]:
    d = "wmt_newstest_zh_en"
    return [(z.strip(), e.strip()) for z, e in zip(_lines(f"{d}/{stem}.zh"), _lines(f"{d}/{stem}.en"), strict=True)
            if z.strip() and e.strip()]


def load(n_queries: int, seed: int, wmt_queries: int | None = None):
    """(memory pairs, {dataset: {direction: [(query, reference)]}}). ``wmt_queries``: that many
    WMT queries per direction instead of ``n_queries`` (the first ``n_queries`` drawn as
    without it, the others from the rest with a generator of their own, so that the TICO-19
    and Tatoeba draws stay the same)."""
    memory: list[tuple[str, str]] = []
    for stem in ("newstest2017.zho-eng", "newstest2018.zho-eng", "newstest2019.zho-eng",
                 "newstest2019.eng-zho", "newstest2021.zho-eng"):
        memory += _pairs(stem)
    rng = random.Random(seed)
    # The same sources with a second, independent reference (newstestB2020): a rendering found
    # in either counts as right in the "any reference" figures. The sample is drawn as before
    # (same length, same generator), so the single-reference figures stay comparable.
    wmt_zh = _with_second_reference("newstest2020.zho-eng", "newstestB2020.zho-eng", "en")
    wmt_en = _with_second_reference("newstest2020.eng-zho", "newstestB2020.eng-zho", "zh")
    more_rng = random.Random(seed + 1)

    def wmt_sample(pairs: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        picked = rng.sample(pairs, min(n_queries, len(pairs)))
        if wmt_queries is not None and wmt_queries > len(picked):
            taken = set(picked)
            rest = [p for p in pairs if p not in taken]
            picked += more_rng.sample(rest, min(wmt_queries - len(picked), len(rest)))
        return picked

    queries = {"wmt": {"zh2en": [(z, (e, *more)) for z, e, *more in wmt_sample(wmt_zh)],
                       "en2zh": [(e, (z, *more)) for z, e, *more in wmt_sample(wmt_en)]}}
    tico = [(z.strip(), e.strip()) for z, e in zip(_lines("tico19_zh_en/tico19-test.zh"),
                                                   _lines("tico19_zh_en/tico19-test.en"), strict=True)
            if z.strip() and e.strip()]
    tatoeba = []
    for line in _lines("tatoeba_cmn/cmn.txt"):
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip() and cols[1].strip():
            tatoeba.append((cols[1].strip(), cols[0].strip()))
    for name, pairs in (("tico19", tico), ("tatoeba", tatoeba)):
        pairs = pairs[:]
        rng.shuffle(pairs)
        held = pairs[: 2 * n_queries]
        memory += pairs[2 * n_queries :]
        queries[name] = {"zh2en": [(z, (e,)) for z, e in held[:n_queries]],
                         "en2zh": [(e, (z,)) for z, e in held[n_queries:]]}
    return memory, queries


#: Other prose (``--prose``), from ../shared/data/align's gold sentence alignments: (set, folder,
#: Chinese side, English side, held-out documents). The novels are six chapters of six books:
#: the last two are new text, the first four go into the memory. The academic and magazine
#: sets are one file each of many articles: their last third is new text.
PROSE = (("novel", "mac-dev", "zh", "en", ("005", "006")),
         ("academic", "nonlit-aca", "tgt", "src", ()),
         ("magazine", "nonlit-mag", "tgt", "src", ()))


def prose_pairs(folder: str, zh_side: str, en_side: str) -> dict[str, list[tuple[str, str]]]:
    """{document: [(zh, en)]} from a set's gold beads with both sides (sentences of a bead
    joined: without a space in Chinese, with one in English). A bead lists side A's lines
    first: the Chinese ones in mac-dev, the English ones (src) in the nonlit sets."""
    root = SHARED / "data" / "align" / folder
    out = {}
    for gold in sorted((root / "gold").glob("*.align")):
        zh = (root / zh_side / gold.stem).read_text(encoding="utf-8-sig").splitlines()
        en = (root / en_side / gold.stem).read_text(encoding="utf-8-sig").splitlines()
        pairs = []
        for line in gold.read_text().splitlines():
            a, b = (sorted(int(x) for x in part.strip("[] ").split(",") if x.strip()) for part in line.split(":"))
            zs, es = (a, b) if zh_side == "zh" else (b, a)
            z, e = "".join(zh[k].strip() for k in zs), " ".join(en[k].strip() for k in es)
            if z and e:
                pairs.append((z, e))
        out[gold.stem] = pairs
    return out


def load_prose(n_queries: int, seed: int):
    """(memory pairs, {set: {direction: [(query, (reference,))]}}) of the other prose (PROSE)."""
    rng = random.Random(seed)
    memory: list[tuple[str, str]] = []
    queries = {}
    for name, folder, zh_side, en_side, held_docs in PROSE:
        held: list[tuple[str, str]] = []
        for doc, pairs in prose_pairs(folder, zh_side, en_side).items():
            if held_docs:
                (held if doc in held_docs else memory).extend(pairs)
            else:
                cut = len(pairs) * 2 // 3
                memory.extend(pairs[:cut])
                held.extend(pairs[cut:])
        picked = rng.sample(held, min(n_queries, len(held)))
        queries[name] = {"zh2en": [(z, (e,)) for z, e in picked], "en2zh": [(e, (z,)) for z, e in picked]}
    return memory, queries


def _with_second_reference(stem: str, second: str, ref_lang: str) -> list[tuple[str, ...]]:
    """(zh, en, second reference) of a WMT set, in the order and with the filter of _pairs; the
    second reference is left out where it is empty."""
    d = "wmt_newstest_zh_en"
    other = "zh" if ref_lang == "en" else "en"
    assert _lines(f"{d}/{stem}.{other}") == _lines(f"{d}/{second}.{other}"), "not the same sources"
    out = []
    for z, e, b in zip(_lines(f"{d}/{stem}.zh"), _lines(f"{d}/{stem}.en"), _lines(f"{d}/{second}.{ref_lang}"),
                       strict=True):
        if z.strip() and e.strip():
            out.append((z.strip(), e.strip(), *([b.strip()] if b.strip() else [])))
    return out


def glossary_pairs() -> list[tuple[str, str]]:
    from glossary.core.model import term_pairs
    from glossary.demo import load_demo_entries

    return term_pairs(load_demo_entries())


def correct(rendering: str, reference: str, lang: str) -> bool:
    key, ref = rendering_key(rendering, lang), rendering_key(reference, lang)
    if not key:
        return False
    return f" {key} " in f" {ref} " if lang == "en" else key in ref


def train_model(memory, *, retrain: bool, cache: str | None = None) -> tuple[AlignmentModel, float]:
    digest = hashlib.sha1(repr(len(memory)).encode() + memory[0][0].encode() + memory[-1][1].encode()).hexdigest()[:10]
    path = Path(cache or f"/tmp/frag_bench_model_{digest}.npz")
    if path.exists() and not retrain:
        try:
            return AlignmentModel.load(path), 0.0
        except ValueError as err:  # saved by another format version: train again
            print(f"  {err}", flush=True)
    t = time.perf_counter()
    model = wordalign.train(memory, priors=glossary_pairs(), log=lambda m: print("  train:", m, flush=True))
    seconds = time.perf_counter() - t
    model.save(path)
    return model, seconds


def evaluate(model, memory, queries, methods):
    """records[method][direction][dataset] = list of per-query dicts."""
    from glossary.core.recognize import TermRecognizer
    from glossary.demo import load_demo_entries
    from tm.core.index import CandidateIndex

    recognizer = TermRecognizer(load_demo_entries())
    # The glossary the model was trained with (a cached model of an older run may not carry it).
    glossary = GlossaryIndex(glossary_pairs())
    out = {m: {} for m in methods}
    for direction, lang in (("zh2en", "zh"), ("en2zh", "en")):
        tgt_lang = "en" if lang == "zh" else "zh"
        sources = [z if lang == "zh" else e for z, e in memory]
        targets = [e if lang == "zh" else z for z, e in memory]
        t = time.perf_counter()
        finder = FragmentIndex(lang).build_units((u, fragment_units(text, lang)) for u, text in enumerate(sources))
        index = CandidateIndex(lang).build(enumerate(sources))
        print(f"  {direction}: finder and fuzzy index built in {time.perf_counter() - t:.0f} s", flush=True)
        for method in methods:
            cache: dict[int, wordalign.Alignment] = {}

            def align_units(units, method=method, cache=cache):
                for unit in units:
                    if unit.unit_id not in cache:
                        cache[unit.unit_id] = align(model, *memory[unit.unit_id], method=method)
                return [cache[unit.unit_id] for unit in units]

            def record(f, references, lang=lang, tgt_lang=tgt_lang, sources=sources, targets=targets,
                       align_units=align_units, part=False):
                units = [StoredUnit(u, sources[u], targets[u]) for u in f.unit_ids]

                def rendered(units, limit):
                    rs = translate_fragment(model, f.source, lang, units, align_units=align_units,
                                            min_confidence=0.0, limit=limit, glossary=glossary)
                    # (text, confidence, in the first reference, units, features, in any reference)
                    return [(r.text, r.confidence, correct(r.text, references[0], tgt_lang), r.units,
                             r.features, any(correct(r.text, ref, tgt_lang) for ref in references))
                            for r in rs]

                out = {"source": f.source, "units": f.units, "renderings": rendered(units, 10)}
                if part:  # what the service ranks parts by (tm.core.renderings.choose_part)
                    out["pilot"] = rendered(pilot_units(units), 1)
                return out

            out[method][direction] = {}
            for name, qs in queries.items():
                rows = []
                t = time.perf_counter()
                for query, references in qs[direction]:
                    frags = []
                    terms = recognizer.find(query, lang)
                    spans = [(h.start, h.end) for h in terms]
                    for f in find_fragments(query, lang, finder, glossary_spans=spans, sample=SAMPLE):
                        # Its parts are recorded whatever the whole's renderings: which are
                        # tried depends on the threshold (see ``pick``).
                        parts = fragment_parts(query, lang, finder, f, glossary_spans=spans, sample=SAMPLE)
                        frags.append(record(f, references)
                                     | {"parts": [record(part, references, part=True) for part in parts]})
                    rows.append({
                        "query": query, "reference": references[0], "references": list(references),
                        "fragments": frags,
                        "fuzzy70": bool(index.search(query, min_score=70, limit=1)),
                        "glossary": bool(terms),
                    })
                out[method][direction][name] = rows
                print(f"  {method} {direction} {name}: {len(rows)} queries in {time.perf_counter() - t:.0f} s",
                      flush=True)
    return out


def _conf(r, weights):
    if weights is None:
        weights = np.array(WEIGHTS)  # features are kept, so records of older runs rescore too
    z = weights[0] + float(np.dot(weights[1:], r[4]))
    return 1.0 / (1.0 + math.exp(-z))


def shown(fragment, threshold, weights=None):
    """The first rendering shown at ``threshold`` (ranked by units, then confidence), or None."""
    for r in fragment["renderings"]:
        if _conf(r, weights) >= threshold:
            return r
    return None


#: Whether a fragment without a rendering to show gives way to the best of its parts, as the
#: service does (tm.fragments.fragments_many); ``--no-parts`` scores the same records without.
PARTS = True
#: Whether the part is chosen as the service chooses it, by a pilot of its units (records
#: that hold the pilots); ``--no-pilot``: the most confident of the parts on all their units.
PILOT = True


def pick(fragment, threshold, weights=None):
    """(source, rendering) shown for ``fragment`` at ``threshold``: its own first rendering
    shown, else that of the part the service chooses (tm.core.renderings.choose_part; with
    ``--no-pilot``, or records without pilots, the part whose first shown rendering is the most
    confident, as before the pilot), else None."""
    r = shown(fragment, threshold, weights)
    if r is not None:
        return fragment["source"], r
    if not PARTS:
        return None
    parts = fragment.get("parts", ())
    if PILOT and all("pilot" in part for part in parts):
        # As the service chooses (tm.core.renderings.choose_part): the parts in the order of
        # their pilot's first rendering, the first with a rendering shown.
        ranked = sorted(range(len(parts)), key=lambda k: (
            -(_conf(parts[k]["pilot"][0], weights) if parts[k]["pilot"] else -1.0), k))
        for k in ranked:
            r = shown(parts[k], threshold, weights)
            if r is not None:
                return parts[k]["source"], r
        return None
    best = None
    for part in parts:
        r = shown(part, threshold, weights)
        if r is not None and (best is None or _conf(r, weights) > _conf(best[1], weights)):
            best = (part["source"], r)
    return best


#: Which references a rendering is checked against: the first (newstest2020's) only, or any
#: (newstestB2020's second reference too, WMT only: TICO-19 and Tatoeba have one).
LABELS = ("first", "any")


def right(r, label="any"):
    """Whether rendering record ``r`` is in the reference(s) ``label`` names (records of runs
    before the second reference have only the first)."""
    return bool(r[5] if label == "any" and len(r) > 5 else r[2])


def one_word(text: str) -> bool:
    """Whether a rendering is one word (English) or at most two Han characters (Chinese): the
    kind a reference holds by chance ("world" for 世界各国, "law" for 依法治国), whose share
    beside the precision tells a real gain from one bought by shortness."""
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        return len(rendering_key(text, "zh")) <= 2
    return len(rendering_key(text, "en").split()) <= 1


def metrics(rows, threshold, weights=None, label="any"):
    n_shown = n_right = covered = n_one = 0
    for row in rows:
        hit = False
        for f in row["fragments"]:
            picked = pick(f, threshold, weights)
            if picked is None:
                continue
            r = picked[1]
            n_shown += 1
            n_right += right(r, label)
            n_one += one_word(r[0])
            hit |= right(r, label)
        covered += hit
    q = max(len(rows), 1)
    return {
        "queries": len(rows),
        "found": sum(len(r["fragments"]) for r in rows),
        "shown": n_shown,
        "per_query": n_shown / q,
        "precision": n_right / n_shown if n_shown else float("nan"),
        "one_word": n_one / n_shown if n_shown else float("nan"),
        "covered": covered / q,
        "fuzzy70": sum(r["fuzzy70"] for r in rows) / q,
        "glossary": sum(r["glossary"] for r in rows) / q,
    }


def choose(rows, target, weights=None, label="any"):
    """The lowest threshold whose precision reaches ``target`` (coverage falls as it rises)."""
    for th in THRESHOLDS:
        m = metrics(rows, th, weights, label)
        if m["shown"] and m["precision"] >= target:
            return th
    return THRESHOLDS[-1]


#: Features the fit may use, the first N of FEATURES (``--features``: 6 is the model before the
#: glossary's two); the others get weight 0.
FIT_FEATURES = len(FEATURES)


def fit(rows, ridge=1.0, label="any"):
    """Logistic regression (Newton, L2) of "the first rendering is right" on its features,
    over every fragment and (with PARTS) every part, each of which may be shown."""
    xs, ys = [], []
    for row in rows:
        for f in row["fragments"]:
            for g in (f, *(f.get("parts", ()) if PARTS else ())):
                if g["renderings"]:
                    r = g["renderings"][0]
                    xs.append((1.0, *r[4][:FIT_FEATURES]))
                    ys.append(float(right(r, label)))
    x, y = np.array(xs), np.array(ys)
    w = np.zeros(x.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-x @ w))
        g = x.T @ (p - y) + ridge * np.r_[0, w[1:]]
        h = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.diag(np.r_[0, np.ones(len(w) - 1)])
        w -= np.linalg.solve(h, g)
    return np.r_[w, np.zeros(len(FEATURES) - FIT_FEATURES)]


def _both(rows, threshold, weights):
    """metrics under both labels: (any reference, first reference only)."""
    return metrics(rows, threshold, weights, "any"), metrics(rows, threshold, weights, "first")


def _pooled(per_set, which, what):
    """Precision or coverage of several sets' metrics together (weighted by shown / queries)."""
    ms = [both[which] for both in per_set]
    if what == "precision":
        return sum(m["precision"] * m["shown"] for m in ms if m["shown"]) / max(sum(m["shown"] for m in ms), 1)
    return sum(m["covered"] * m["queries"] for m in ms) / max(sum(m["queries"] for m in ms), 1)


#: Step of the threshold grid of ``held_out_frontier``.
FRONTIER_STEP = 0.005


def held_out_frontier(by_set, target, held_out, label="any"):
    """(threshold, covered, precision, one-word share) of the threshold on a FRONTIER_STEP grid
    from 0.5 that covers the most queries while the held-out precision (each set with the
    weights fitted without it, all sets at one threshold) reaches ``target``; None if none
    does. It peeks at the held-out sets, so it compares variants (one number per run: the
    curve's point where the target is met) and chooses nothing."""
    best = None
    for k in range(int(0.5 / FRONTIER_STEP) + 1):
        th = 0.5 + k * FRONTIER_STEP
        ms = [metrics(rows, th, held_out[name], label) for name, rows in by_set.items()]
        shown = sum(m["shown"] for m in ms)
        if not shown:
            continue
        precision = sum(m["precision"] * m["shown"] for m in ms if m["shown"]) / shown
        covered = sum(m["covered"] * m["queries"] for m in ms) / sum(m["queries"] for m in ms)
        one = sum(m["one_word"] * m["shown"] for m in ms if m["shown"]) / shown
        if precision >= target and (best is None or covered > best[1]):
            best = (th, covered, precision, one)
    return best


def _line(name, how, th, both):
    m, m1 = both
    return (f"  {name:8s} {how:3s} {th:.2f} {m['queries']:5d} {m['found']:5d} {m['shown']:5d} "
            f"{m['per_query']:5.2f}  {m['precision']:.3f} ({m1['precision']:.3f})  "
            f"{m['covered']:.3f} ({m1['covered']:.3f}) | {m['fuzzy70']:.3f}     {m['glossary']:.3f}")


def report(records, target, refit, label="any"):
    """Print the curve, the per-set figures and the held-out ones. Weights are fitted and the
    threshold chosen on ``label``'s notion of right; every precision and coverage is printed
    under both: "any reference" first, the first reference alone in brackets."""
    print(f"\nRIGHT = the rendering appears in ANY reference of the query (WMT newstest2020 has two: "
          f"newstest2020 and newstestB2020; TICO-19 and Tatoeba one). Figures in brackets: against "
          f"the first reference alone. Weights fitted and thresholds chosen on: {label} reference.")
    chosen = {}
    for method, by_dir in records.items():
        print(f"\n=== symmetrisation: {method}")
        all_rows = {name: [r for d in by_dir.values() for r in d[name]] for name in next(iter(by_dir.values()))}
        weights_in = fit([r for rows in all_rows.values() for r in rows], label=label) if refit else None
        if refit:
            print("  confidence weights fitted on all sets (intercept, " + ", ".join(FEATURES) + "): "
                  + ", ".join(f"{w:.3f}" for w in weights_in))
        held_out = {}
        for name in all_rows:
            others = [r for other, rs in all_rows.items() if other != name for r in rs]
            held_out[name] = fit(others, label=label) if refit else None
            if refit:
                print(f"  weights without {name}: " + ", ".join(f"{w:.3f}" for w in held_out[name]))
        for direction, by_set in by_dir.items():
            pooled = [r for rows in by_set.values() for r in rows]
            print(f"\n-- {direction}: precision / coverage over the threshold, all data sets pooled; "
                  f"in-sample | held out (each set scored with weights fitted without it)")
            print("  thr  shown  per_q  precision (1st ref)  covered (1st ref) | shown  precision (1st ref)  "
                  "covered (1st ref)  one-word")
            for th in THRESHOLDS:
                m, m1 = _both(pooled, th, weights_in)
                lo = [_both(rows, th, held_out[name]) for name, rows in by_set.items()]
                shown_n = sum(a["shown"] for a, _ in lo)

                print(f"  {th:.2f} {m['shown']:6d}  {m['per_query']:.2f}   {m['precision']:.3f} ({m1['precision']:.3f})"
                      f"      {m['covered']:.3f} ({m1['covered']:.3f})     | {shown_n:5d}  "
                      f"{_pooled(lo, 0, 'precision'):.3f} ({_pooled(lo, 1, 'precision'):.3f})      "
                      f"{_pooled(lo, 0, 'covered'):.3f} ({_pooled(lo, 1, 'covered'):.3f})   "
                      f"{sum(a['one_word'] * a['shown'] for a, _ in lo if a['shown']) / max(shown_n, 1):.2f}")
            frontier = held_out_frontier(by_set, target, held_out, label)
            print(f"  held-out frontier (peeks at the held-out sets: the threshold on a {FRONTIER_STEP} grid "
                  f"that covers the most queries at held-out precision >= {target}): "
                  + (f"{frontier[1]:.3f} covered at {frontier[0]:.3f}, precision {frontier[2]:.3f}, "
                     f"one-word renderings {frontier[3]:.2f}" if frontier else "none reaches it"))
            th_in = choose(pooled, target, weights_in, label)
            chosen[(method, direction)] = (th_in, weights_in)
            print(f"\n-- {direction}: per data set; in-sample threshold {th_in:.2f}; leave-one-data-set-out: "
                  f"weights and threshold chosen on the other sets, reported on this one")
            print("  set      how  thr  queries found shown per_q precision (1st)  covered (1st) | fuzzy>=70 glossary")
            lo_rows = []
            for name, rows in by_set.items():
                others_dir = [r for other, rs in by_set.items() if other != name for r in rs]
                th_lo = choose(others_dir, target, held_out[name], label)
                print(_line(name, "in", th_in, _both(rows, th_in, weights_in)))
                print(_line(name, "loo", th_lo, _both(rows, th_lo, held_out[name])))
                lo_rows.append((rows, th_lo, held_out[name]))
            print(_line("pooled", "in", th_in, _both(pooled, th_in, weights_in)))
            # Pooled held-out figure: each set at its own held-out threshold and weights.
            agg = []
            for which in ("any", "first"):
                ms = [metrics(rows, th, w, which) for rows, th, w in lo_rows]
                n = sum(m["shown"] for m in ms)
                agg.append((sum(m["precision"] * m["shown"] for m in ms if m["shown"]) / max(n, 1),
                            sum(m["covered"] * m["queries"] for m in ms) / max(sum(m["queries"] for m in ms), 1), n))
            ms = [metrics(rows, th, w) for rows, th, w in lo_rows]
            one = sum(m["one_word"] * m["shown"] for m in ms if m["shown"]) / max(agg[0][2], 1)
            print(f"  pooled   loo  each set at its own held-out threshold: shown {agg[0][2]}, precision "
                  f"{agg[0][0]:.3f} ({agg[1][0]:.3f}), covered {agg[0][1]:.3f} ({agg[1][1]:.3f}); "
                  f"one-word renderings {one:.2f}")
    return chosen


#: Blocks of contiguous lines the issue's own set is held out by (``report_issue_set``).
ISSUE_SET_BLOCKS = 10


def report_issue_set(records, target, blocks=ISSUE_SET_BLOCKS):
    """The issue's own set, WMT newstest2020 as new text, held out by document: its articles
    run contiguously in the file (which has no document ids), so each of ``blocks`` runs of
    contiguous lines is scored with weights fitted on every other record (both directions, all
    sets, as the service's are) and the threshold chosen on the other blocks (the lowest whose
    precision reaches ``target``), pooled over the blocks; beside it the same held-out weights
    at fixed thresholds, and the in-sample figure."""
    print(f"\nThe issue's own set: WMT newstest2020 queries, held out by {blocks} blocks of contiguous lines "
          f"(whole articles but at the blocks' edges); RIGHT in any reference (first reference in brackets)")
    for method, by_dir in records.items():
        every = [r for by_set in by_dir.values() for rows in by_set.values() for r in rows]
        weights_in = fit(every)  # in-sample: fitted on every record, as the service's are
        for direction, by_set in by_dir.items():
            stem, lang = (("newstest2020.zho-eng", "zh") if direction == "zh2en" else ("newstest2020.eng-zho", "en"))
            lines = [line.strip() for line in _lines(f"wmt_newstest_zh_en/{stem}.{lang}")]
            line_of: dict[str, int] = {}
            for k, line in enumerate(lines):
                line_of.setdefault(line, k)
            size = -(-len(lines) // blocks)
            by_block: dict[int, list] = {}
            for row in by_set["wmt"]:
                by_block.setdefault(line_of[row["query"]] // size, []).append(row)
            held = []  # (rows, weights, threshold) per block
            for block, rows in sorted(by_block.items()):
                ids = {id(r) for r in rows}
                weights = fit([r for r in every if id(r) not in ids])
                rest = [r for other, rs in by_block.items() if other != block for r in rs]
                held.append((rows, weights, choose(rest, target, weights)))
            thresholds = sorted({th for _, _, th in held})
            print(f"\n-- {method} {direction}: {len(by_set['wmt'])} queries in {len(held)} blocks; "
                  f"thresholds chosen on the other blocks: {', '.join(f'{th:.2f}' for th in thresholds)}")
            for label, at in [("each block at its chosen threshold", None),
                              *((f"at {th:.2f}", th) for th in sorted({0.5, 0.55, MIN_CONFIDENCE, 0.65}))]:
                both = [_both(rows, th if at is None else at, w) for rows, w, th in held]
                shown = sum(m["shown"] for m, _ in both)
                print(f"  held out, {label:36s} shown {shown:4d}  precision {_pooled(both, 0, 'precision'):.3f} "
                      f"({_pooled(both, 1, 'precision'):.3f})  covered {_pooled(both, 0, 'covered'):.3f} "
                      f"({_pooled(both, 1, 'covered'):.3f})")
            m, m1 = _both(by_set["wmt"], MIN_CONFIDENCE, weights_in)
            print(f"  in-sample, at {MIN_CONFIDENCE:.2f}{'':27s} shown {m['shown']:4d}  precision {m['precision']:.3f} "
                  f"({m1['precision']:.3f})  covered {m['covered']:.3f} ({m1['covered']:.3f})")


def report_prose(records):
    """Other prose (``--prose``) as a user of the service meets it: the confidence's weights
    (tm.core.renderings.WEIGHTS) and threshold fitted on the three sets above, never on these."""
    print(f"\nOther prose, the service's weights and MIN_CONFIDENCE {MIN_CONFIDENCE} (never fitted on it); "
          f"RIGHT = in the reference, brackets: the curve's one-word share")
    for method, by_dir in records.items():
        for direction, by_set in by_dir.items():
            print(f"\n-- {method} {direction}")
            print("  set        queries found shown per_q precision covered | fuzzy>=70 glossary")
            pooled = [r for rows in by_set.values() for r in rows]
            for name, rows in [*by_set.items(), ("pooled", pooled)]:
                m = metrics(rows, MIN_CONFIDENCE)
                print(f"  {name:10s} {m['queries']:5d} {m['found']:5d} {m['shown']:5d} {m['per_query']:5.2f}  "
                      f"{m['precision']:.3f}     {m['covered']:.3f} | {m['fuzzy70']:.3f}     {m['glossary']:.3f}")
            print("  pooled over the threshold: " + "; ".join(
                f"{th:.2f} {m['precision']:.3f}/{m['covered']:.3f} ({m['one_word']:.2f})"
                for th in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8) for m in [metrics(pooled, th)]))


def print_errors(records, method, limit, seed):
    """What to look at before changing anything: per data set, ``limit`` random zh→en fragments
    shown at the service's operating point (MIN_CONFIDENCE, WEIGHTS) whose rendering is in no
    reference, with the fragment's other renderings (units, confidence, R when right), and
    ``limit`` fragments with nothing shown, with their renderings and their parts'."""
    rng = random.Random(seed)
    th, weights = MIN_CONFIDENCE, np.array(WEIGHTS)

    def alternatives(g, n):
        return ", ".join(f"{r[0]} ({r[3]}, {_conf(r, weights):.2f}{', R' if right(r) else ''})"
                         for r in g["renderings"][:n])

    for name, rows in records[method]["zh2en"].items():
        wrong, missed = [], []
        for row in rows:
            for f in row["fragments"]:
                picked = pick(f, th, weights)
                if picked is not None and not right(picked[1]):
                    # The renderings of what was shown: the fragment, or the part standing in.
                    g = next((p for p in (f, *f.get("parts", ())) if p["source"] == picked[0]), f)
                    wrong.append(f"  {picked[0]} → {picked[1][0]!r} | {alternatives(g, 4)}\n"
                                 f"      reference: {row['reference'][:160]}")
                elif picked is None:
                    parts = "; ".join(f"{p['source']}: {alternatives(p, 2)}" for p in f.get("parts", ()))
                    missed.append(f"  {f['source']} (in {f['units']} units) | {alternatives(f, 3)} | parts: {parts}")
        for title, items in ((f"shown and in no reference: {len(wrong)}", wrong),
                             (f"found, nothing shown: {len(missed)}", missed)):
            print(f"\n-- zh2en {name}, {title}; {min(limit, len(items))} at random")
            for item in rng.sample(items, min(limit, len(items))):
                print(item)


def write_judging_file(records, method, path, seed):
    """50 random fragments shown at the service's operating point (MIN_CONFIDENCE, WEIGHTS)."""
    items = []
    th, weights = MIN_CONFIDENCE, np.array(WEIGHTS)
    for direction, by_set in records[method].items():
        for name, rows in by_set.items():
            for row in rows:
                for f in row["fragments"]:
                    picked = pick(f, th, weights)
                    if picked is not None:
                        source, r = picked
                        items.append((direction, name, source, r[0], f"{_conf(r, weights):.2f}", str(r[3]),
                                      str(int(right(r, "any"))),
                                      row["query"], " || ".join(row.get("references", [row["reference"]]))))
    rng = random.Random(seed)
    sample = rng.sample(items, min(50, len(items)))
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, delimiter="\t")
        w.writerow(["direction", "set", "fragment", "rendering", "confidence", "units", "in_any_reference",
                    "query", "references"])
        w.writerows(sample)
    print(f"\n{len(sample)} of {len(items)} fragments shown at MIN_CONFIDENCE {th} ({method}) written to {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=300, help="queries per data set and direction")
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--wmt-queries", type=int,
                    help="WMT queries per direction (default --queries); 2000 takes every newstest2020 one")
    ap.add_argument("--prose", action="store_true",
                    help="other prose as new text (novels, academic and magazine articles from "
                         "../shared/data/align), scored with the service's weights and threshold")
    ap.add_argument("--target", type=float, default=0.75, help="precision the operating point must reach")
    ap.add_argument("--methods", default="grow-diag-final-and")
    ap.add_argument("--retrain", action="store_true")
    ap.add_argument("--model", help="where the trained model is cached (default: /tmp by the memory's digest, "
                                    "shared with other checkouts: give a path of your own when training differs)")
    ap.add_argument("--fit", action="store_true",
                    help="refit the confidence's weights (in-sample and per held-out set) instead of "
                         "tm.core.renderings.WEIGHTS")
    ap.add_argument("--label", choices=LABELS, default="any",
                    help="fit the weights and choose thresholds on renderings found in any reference "
                         "(default) or in the first one only")
    ap.add_argument("--features", type=int, default=len(FEATURES),
                    help="fit on the first N features only (6: without the glossary's)")
    ap.add_argument("--no-parts", action="store_true",
                    help="score without the fallback to a fragment's parts (records keep them)")
    ap.add_argument("--no-pilot", action="store_true",
                    help="choose a fragment's part as before the pilot: the most confident on all its units")
    ap.add_argument("--load", help="read pickled records (from --dump) instead of evaluating")
    ap.add_argument("--judge", default="/tmp/frag_judge.tsv")
    ap.add_argument("--dump", help="pickle the per-query records here (for analysis)")
    ap.add_argument("--errors", type=int, default=0, metavar="N",
                    help="print N random wrong shown fragments and N fragments with nothing shown, per set")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"data not found: {DATA}")
    global FIT_FEATURES, PARTS, PILOT
    FIT_FEATURES = args.features
    PARTS = not args.no_parts
    PILOT = not args.no_pilot
    methods = args.methods.split(",")
    if args.load:
        records = pickle.loads(Path(args.load).read_bytes())
        methods = list(records)
    else:
        memory, queries = load(args.queries, args.seed, args.wmt_queries)
        if args.prose:  # the same memory and more, other prose as the only new text
            more, queries = load_prose(args.queries, args.seed)
            memory += more
        print(f"memory: {len(memory)} pairs; queries per set and direction: {args.queries}", flush=True)
        model, seconds = train_model(memory, retrain=args.retrain, cache=args.model)
        if seconds:
            print(f"trained in {seconds:.0f} s; tables {model.nbytes() / 1e6:.0f} MB; tension zh→en "
                  f"{model.zh_to_en.tension:.2f}, en→zh {model.en_to_zh.tension:.2f}", flush=True)
        t = time.perf_counter()
        records = evaluate(model, memory, queries, methods)
        print(f"evaluated in {time.perf_counter() - t:.0f} s")
    if args.dump:
        Path(args.dump).write_bytes(pickle.dumps(records))
    if args.prose:
        report_prose(records)
        return
    report(records, args.target, args.fit, args.label)
    report_issue_set(records, args.target)
    if args.errors:
        print_errors(records, methods[0], args.errors, args.seed)
    write_judging_file(records, methods[0], args.judge, args.seed)


if __name__ == "__main__":
    main()
