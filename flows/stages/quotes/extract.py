"""Quotes: who said what. Direct and partial quotes in quotation marks, and indirect
(reported) speech, each with its speaker as written, the reporting cue, and the
entity the speaker really is.

Quotation marks are read over the whole text, not sentence by sentence, so a quote
may run over several sentences, and over paragraphs by the newspaper convention (a
paragraph that continues a quote reopens it; the previous one stays open). Speakers
come from the dependency parse: the subject of the nearest reporting verb ("said",
"told", "adds", "according to", ...) outside the quote, or of the verb it depends on
("said X, adding: ..."). A quote with no cue of its own continues the previous
speaker. Pronouns and descriptions ("he", "it", "the news outlet") resolve to the
latest speaker or mention of a fitting kind; a speaker that cannot be found stays null.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass

from flows.stages.parse import doc_text, token_starts
from flows.stages.people import PRONOUN_GENDER, is_person_noun, name_gender, noun_gender

# Lemmas of verbs that report speech (not thought: "believe", "hope" are left out).
REPORTING_VERBS = {
    "say", "tell", "add", "state", "claim", "assert", "announce", "warn", "insist", "argue",
    "explain", "note", "reveal", "report", "write", "post", "tweet", "confirm", "deny",
    "acknowledge", "admit", "allege", "comment", "concede", "declare", "emphasise",
    "emphasize", "indicate", "maintain", "mention", "predict", "promise", "reply", "respond",
    "stress", "vow", "ask", "complain", "conclude", "recall", "remark", "caution", "observe",
    "read", "quote", "point", "suggest", "accuse", "describe", "urge", "continue", "agree",
    "testify", "boast", "joke", "retort", "counter", "concur", "contend", "disclose",
    "forecast", "pledge", "threaten", "repeat", "reiterate", "signal", "estimate", "hint",
    "underline", "highlight", "told", "says", "cite", "protest", "brief",
    "answer", "shout", "cry", "whisper", "intimate", "proclaim",
    "call", "brand", "dub", "hail", "label",  # 'called the sale "the swindle of the century"'
}
# Verbs that report speech only with their particle: "points out".
PARTICLE_VERBS = {"point": "out"}
PERSON_PRONOUNS = {"he", "she", "him", "her", "i", "we"}
THING_PRONOUNS = {"it", "they"}
PERSON_NOUNS = {
    "spokesman", "spokeswoman", "spokesperson", "minister", "president", "official", "leader",
    "chief", "chairman", "chairwoman", "director", "secretary", "executive", "boss", "manager",
    "coach", "analyst", "economist", "expert", "source", "commander", "general", "colonel",
    "governor", "mayor", "senator", "ambassador", "envoy", "lawyer", "judge", "professor",
    "man", "woman", "officer", "aide", "adviser", "advisor", "founder", "player", "star",
    "host", "presenter", "singer", "actor", "actress", "author", "writer", "producer",
    "rapper", "musician", "artist", "comedian", "owner", "investor", "head", "candidate",
    "campaigner", "mp", "premier", "chancellor", "economist", "striker", "midfielder",
    "defender", "goalkeeper", "captain", "skipper", "designer", "developer", "inventor",
    "international", "forward", "winger", "veteran",
    "scientist", "researcher", "doctor", "commissioner", "prosecutor", "figure",
}
ORGANISATION_NOUNS = {
    "outlet", "agency", "newspaper", "paper", "company", "firm", "group", "organisation",
    "organization", "ministry", "department", "government", "bank",
    "network", "channel", "website", "broadcaster", "militia", "party", "union", "council",
    "committee", "office", "army", "military", "coalition", "club", "association", "board",
    "regulator", "authority", "body", "court", "commission", "institute",
    "tank", "giant", "retailer", "airline", "carrier", "operator", "insurer",
    "lender", "watchdog", "publisher", "studio", "label", "team", "side", "federation",
}
# Heads that stand for any organisation named before ("the firm", "the group"); others
# ("the committee", "the party") repeat a word of the name they stand for.
GENERIC_ORGANISATION_NOUNS = {
    "company", "firm", "group", "giant", "retailer", "airline", "carrier", "operator",
    "insurer", "lender", "publisher", "studio", "label", "broadcaster", "network", "outlet",
    "newspaper", "paper", "website", "organisation", "organization", "business", "maker",
    "manufacturer", "chain", "conglomerate",
}
# What an organisation speaks through: "the report said", "a statement from X read".
DOCUMENT_NOUNS = {"report", "statement", "study", "survey", "filing", "letter", "document",
                  "figures", "data", "statistics", "research", "analysis", "poll"}
TITLE_CUES = re.compile(
    r"\b(film|movie|song|single|album|book|novel|play|show|programme|program|series|"
    r"track|titled|entitled|called|named|dubbed|nicknamed|slogan|headline|campaign|known as)"
    r"\W{0,3}$", re.IGNORECASE)
OPENING = "“„«"
CLOSING = "”»"
# Where quoted_spans has something to decide: a paragraph break or a quotation mark.
QUOTE_EVENTS = re.compile("\n\n|[" + OPENING + CLOSING + '"]')
# The words a cue can be (_according_to, _is_reporting_verb, _reporting_phrase).
CUE_LEMMAS = REPORTING_VERBS | {"put", "make", "express", "voice", "raise"}
CUE_WORDS = REPORTING_VERBS | {"according"}
CONTINUATION_PARAGRAPHS = 2
LOOKBACK_CHARS = 1500
ORGANISATION_KINDS = {"ORG", "GPE"}
DEFINITE = {"the", "this", "that", "these", "those"}
TITLE_WORDS_BEFORE_NAME = 3  # "said founder Mikhail Khodorkovsky", "said US Treasury Secretary John Snow"
LEAD_NAMING_SENTENCES = 2
SENTENCES_BACK = 4  # how far back a pronoun or description looks for its referent
AFTER_SENTENCE_CUE_TOKENS = 6  # '"...." the company's chief executive said'
MAX_SCARE_WORDS = 2
CONTINUING_CUES = {"add", "continue"}
QUANTIFIER_NOUNS = {"number", "handful", "couple", "lot", "dozen", "dozens", "hundreds", "thousands"}
POLL_SHARE = re.compile(r"%|per ?cent|percent|half|(?:(?:one|two|three)-)?(?:thirds?|quarters?)|majority|minority")


# The columns of extract_quotes' rows: the referent's span becomes speaker_entity_id
# once the dataset's entities are known (flows.stages.link).
QUOTE_COLUMNS = ["quote_id", "article_id", "start", "end", "text", "kind", "speaker", "speaker_start",
                 "speaker_end", "cue", "speaker_description", "referent_start", "referent_end"]


@dataclass
class Quote:
    start: int
    end: int
    kind: str
    cue: object = None  # spaCy token (or tokens) of the reporting words
    speaker: object = None  # spaCy span of the speaker as written

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def quote_id_for(article_id: str, start: int, end: int) -> str:
    return hashlib.sha256(f"newscorpus/quote/{article_id}/{start}/{end}".encode()).hexdigest()[:16]


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words inside every pair of double quotation marks.

    Curly quotes say whether they open or close; a straight one is read by its
    neighbours (a space before and a word after opens). A paragraph that opens with a
    quotation mark while a quote is still open continues it, and so does a mark that
    opens again inside a paragraph before the first was closed (a lost paragraph
    break, common in scraped text). A quote still open at the end of a paragraph that
    is not continued ends there; a closing mark with nothing open is ignored.
    """
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    resume = 0  # a paragraph's opening mark that continues a quote is passed over
    for event in QUOTE_EVENTS.finditer(text):
        i = event.start()
        if i < resume:
            continue
        if event.group() == "\n\n":
            next_start = i + 2
            continued = next_start < len(text) and text[next_start] in OPENING + '"'
            if opened is not None and not continued:
                spans.append((opened, i))
                opened = None
            resume = next_start + (1 if opened is not None and continued else 0)
            continue
        role = _mark_role(text, i)
        if role == "open" and opened is None:
            opened = i + 1
        elif role == "close" and opened is not None:
            spans.append((opened, i))
            opened = None
    if opened is not None:
        spans.append((opened, len(text)))
    return [trimmed for trimmed in (_trim(text, s, e) for s, e in spans) if trimmed[0] < trimmed[1]]


def _mark_role(text: str, i: int) -> str | None:
    char = text[i]
    if char in OPENING:
        return "open"
    if char in CLOSING:
        return "close"
    if char != '"':
        return None
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if (before.isspace() or before in "([{—–-/") and not after.isspace():
        return "open"
    if not before.isspace():
        return "close"
    return "open" if not after.isspace() else None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def extract_quotes(article_id: str, doc, found: dict[str, list[dict]]) -> list[dict]:
    """Quote rows for one parsed article; speakers resolve through the article's
    mentions, already in `found["mentions"]`."""
    mentions = found["mentions"]
    text = doc_text(doc)
    quoted = quoted_spans(text)
    quotes = [q for q in (_classify(doc, span, quoted) for span in quoted) if q is not None]
    for quote in quotes:
        quote.cue = _cue_for(doc, quote, quoted)
        quote.speaker = _speaker_of(quote.cue, quoted) if quote.cue is not None else None
    quotes = [q for q in quotes if not (q.kind == "partial" and q.speaker is not None
                                        and _is_quantity(q.speaker))]  # "92% said ..."
    quotes += _indirect_quotes(doc, quoted, quotes)
    quotes.sort(key=lambda q: q.start)
    return _rows(article_id, doc, quotes, mentions, quoted)


def _classify(doc, span: tuple[int, int], quoted: list[tuple[int, int]]) -> Quote | None:
    """direct, partial, or None for a title, a nickname or a scare quote."""
    text = doc_text(doc)
    start, end = span
    words = len(text[start:end].split())
    before = text[max(0, start - 60):start - 1]
    line_start = text.rfind("\n", 0, start - 1) + 1
    lead = text[line_start:start - 1].rstrip()
    if TITLE_CUES.search(before) and not re.search(r"[.!?,]$", text[start:end]):
        return None
    if words <= MAX_SCARE_WORDS and re.search(r"[A-Z][\w.]*\s$", text[max(0, start - 30):start - 1]) \
            and re.match(r"\s[A-Z]", text[end + 1:end + 3]):
        return None  # a nickname inside a name: Antonio "LA" Reid
    sentence = _sentence_of(doc, start)
    reported = any(_is_reporting_verb(t) for t in sentence if not _inside(t.idx, quoted))
    if words <= MAX_SCARE_WORDS and not reported:
        return None
    opens_statement = (not lead or re.search(r"[:,.!?][\"”’']?$", lead) is not None  # also '." "More ...
                       or _ends_with_reporting_verb(doc, start))
    whole_sentence = text[start].isupper() and re.search(r"[.!?]\W*$", text[start:end]) is not None
    if (opens_statement and not text[start].islower()) or (whole_sentence and lead.endswith(" that")):
        return Quote(start, end, "direct")  # also 'X posted that "USA will have to leave."'
    if not reported:
        return None  # a fragment with no reporting words: a name, a slogan, irony ("the "Winter of Discontent"")
    return Quote(start, end, "partial")


def _rows(article_id: str, doc, quotes: list[Quote], mentions: list[dict],
          quoted: list[tuple[int, int]]) -> list[dict]:
    """Quote rows; `referent_start`/`referent_end` name the mention the speaker refers
    to, which becomes `speaker_entity_id` once the dataset's entities are known. A
    speaker with no name keeps the words that describe them in `speaker_description`."""
    rows, previous = [], None
    for quote in quotes:
        speaker_span = _speaker_surface(quote.speaker, mentions) if quote.speaker is not None else None
        referent = None
        if speaker_span is not None:
            referent = _resolve(doc, speaker_span, rows, mentions, quoted, quote.cue)
            own = _description(doc, speaker_span)
            if own is not None and (referent is None or referent["label"] is None):
                referent = own  # "The Trafford Centre spokeswoman": not an earlier description
        elif quote.kind != "indirect" and previous is not None and _continues(doc_text(doc), previous, quote):
            referent = previous["_referent"]
        named = referent is not None and referent["label"] is not None
        cue_start, cue_end = _cue_span(quote.cue) if quote.cue is not None else (None, None)
        row = {
            "quote_id": quote_id_for(article_id, quote.start, quote.end),
            "article_id": article_id,
            "start": quote.start,
            "end": quote.end,
            "text": doc_text(doc)[quote.start:quote.end],
            "kind": quote.kind,
            "speaker": doc_text(doc)[speaker_span[0]:speaker_span[1]] if speaker_span else None,
            "speaker_start": speaker_span[0] if speaker_span else None,
            "speaker_end": speaker_span[1] if speaker_span else None,
            "cue": doc_text(doc)[cue_start:cue_end] if cue_start is not None else None,
            "speaker_description": referent["text"] if referent is not None and not named else None,
            "referent_start": referent["start"] if named else None,
            "referent_end": referent["end"] if named else None,
            "_referent": referent,
        }
        rows.append(row)
        previous = row
    for row in rows:
        del row["_referent"]
    return rows


def _continues(text: str, previous: dict, quote: Quote) -> bool:
    """Is `quote` close enough after `previous` to continue its speaker?"""
    between = text[previous["end"]:quote.start]
    return between.count("\n\n") <= CONTINUATION_PARAGRAPHS - 1 or (
        between.count("\n\n") == CONTINUATION_PARAGRAPHS and len(between) < 400)


def _sentence_of(doc, char: int):
    sentences, starts = _sentence_index(doc)
    return sentences[max(0, bisect.bisect_right(starts, char) - 1)]


def _sentence_index(doc) -> tuple[list, list[int]]:
    """The doc's sentences and their start offsets, computed once per doc (walking
    `doc.sents` visits every token)."""
    if "newscorpus.sentences" not in doc.user_data:
        sentences = list(doc.sents)
        doc.user_data["newscorpus.sentences"] = (sentences, [s.start_char for s in sentences])
    return doc.user_data["newscorpus.sentences"]


def _tokens_between(doc, start: int, end: int):
    """The span of tokens that begin at or after `start` and before `end` (character
    offsets); its tokens are made only as they are read."""
    starts = token_starts(doc)
    return doc[bisect.bisect_left(starts, start):bisect.bisect_left(starts, end)]


def _inside(char: int, spans: list[tuple[int, int]]) -> bool:
    return any(start - 1 <= char <= end for start, end in spans)


def _is_reporting_verb(token) -> bool:
    lemma = token.lemma_.lower()
    if lemma not in REPORTING_VERBS and token.lower_ not in REPORTING_VERBS:
        return _reporting_phrase(token)
    if lemma in PARTICLE_VERBS and not any(c.lower_ == PARTICLE_VERBS[lemma] for c in token.children):
        return False
    return token.pos_ in ("VERB", "AUX") or token.tag_.startswith("VB")


def _reporting_phrase(token) -> bool:
    """ "made it clear", "expressed concern", "voiced their concern" report speech too."""
    if token.pos_ != "VERB":
        return False
    objects = {c.lower_ for c in token.children if c.dep_ in ("dobj", "ccomp", "oprd", "acomp")}
    lemma = token.lemma_.lower()
    if lemma == "put" and "it" in objects and any(c.dep_ == "mark" and c.lower_ == "as" for c in token.children):
        return True  # "As Gavin Cox put it: ..."
    return (lemma == "make" and "clear" in objects) or (
        lemma in ("express", "voice", "raise") and bool(objects & {"concern", "concerns", "fears", "doubts"}))


def _ends_with_reporting_verb(doc, char: int) -> bool:
    before = _tokens_between(doc, max(0, char - 40), char - 1)
    return bool(before) and _is_reporting_verb(before[-1])


def _cue_for(doc, quote: Quote, quoted: list[tuple[int, int]]):
    """The reporting verb (or "according to") that attributes a quoted span."""
    text = doc_text(doc)
    close = quote.end + 1
    # Look after the quote up to the next quote or the end of the sentence, and
    # before it back to the previous quote or the start of the sentence; never into
    # another paragraph, which attributes its own words.
    paragraph_end = text.find("\n", close)
    after_end = min([s - 1 for s, _ in quoted if s > quote.end]
                    + [_sentence_of(doc, min(close, len(text) - 1)).end_char]
                    + ([paragraph_end] if paragraph_end != -1 else []))
    before_start = max([e + 1 for _, e in quoted if e < quote.start]
                       + [_sentence_of(doc, quote.start).start_char, text.rfind("\n", 0, quote.start) + 1])
    after = _tokens_between(doc, close, after_end)
    before = [t for t in _tokens_between(doc, before_start, quote.start - 1)
              if t.idx + len(t) <= quote.start - 1]
    ends_with_comma = re.search(r"[,—–-]\W*$", text[quote.start:quote.end]) is not None
    if re.search(r"[.!?]\W*$", text[quote.start:quote.end]):
        # A finished sentence is attributed only by words right after it:
        # '"...?" asked Smith', not a new sentence that reports something else.
        after = after[:AFTER_SENTENCE_CUE_TOKENS]
    after_cues = [t for t in after if _is_reporting_verb(t) or _according_to(t)]
    before_cues = [t for t in reversed(before) if _is_reporting_verb(t) or _according_to(t)]
    introduced = text[before_start:quote.start - 1].rstrip().endswith(":")
    if after_cues and (ends_with_comma or not before_cues) and not (introduced and before_cues):
        return after_cues[0]
    if before_cues:
        return before_cues[0]
    return None


def _according_to(token) -> bool:
    return token.lower_ == "according" and token.i + 1 < len(token.doc) and \
        token.doc[token.i + 1].lower_ == "to"


def _cue_span(cue) -> tuple[int, int]:
    """The reporting words as written: the verb with its particle ("points out"),
    or "according to"."""
    if _according_to(cue):
        following = cue.doc[cue.i + 1]
        return cue.idx, following.idx + len(following)
    particles = [c for c in cue.children if c.dep_ == "prt" and c.i == cue.i + 1]
    end = particles[0] if particles else cue
    return cue.idx, end.idx + len(end)


def _speaker_of(cue, quoted: list[tuple[int, int]]):
    """The token that says it: the cue's subject, the object of "according to", the
    noun after an inverted cue ('"...," reveals Reuters', '"...," read a statement
    from X'), or the subject of the verb a participle hangs from ("said X, adding")."""
    if _according_to(cue):
        to = cue.doc[cue.i + 1]
        objects = [c for c in to.children if c.dep_ == "pobj"]
        return objects[0] if objects else None
    named_after = _name_after_parenthetical_cue(cue)
    if named_after is not None:
        return named_after
    quoting = cue if cue.lemma_ == "quote" else next((a for a in cue.ancestors if a.lemma_ == "quote"), None)
    if quoting is not None and any(t.lower_ == "saying" for t in quoting.subtree):
        quoted_person = [c for c in quoting.children if c.dep_ == "dobj" and not _inside(c.idx, quoted)]
        if quoted_person:
            return quoted_person[0]  # "Interfax quoted Mr Khodorkovsky as saying"
    verb = _reporting_ancestor(cue) if cue.tag_ == "VBG" else cue
    for _ in range(3):
        outside = [c for c in verb.children if not _inside(c.idx, quoted)]
        agents = [g for c in outside if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
        subjects = [c for c in outside if c.dep_ == "nsubj"]
        inverted = [c for c in outside if c.i > verb.i and c.dep_ in ("dobj", "attr", "nsubj", "npadvmod")
                    and c.pos_ in ("NOUN", "PROPN", "PRON")]
        if agents:
            return agents[0]
        if subjects and subjects[0].tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
            return _relative_antecedent(subjects[0])  # "the committee, which said": the committee
        if subjects:
            return _past_quantifier(subjects[0])
        if inverted and verb is cue and (_directly_after_quote(cue, quoted) or _final_cue(cue)):
            return inverted[0]
        if verb.dep_ == "relcl":
            return verb.head
        if verb.dep_ in ("advcl", "xcomp", "conj", "ccomp") and verb.head.i != verb.i:
            verb = verb.head
            continue
        if verb.dep_ == "pcomp" and verb.head.dep_ == "prep":
            verb = verb.head.head  # "X is quitting after being quoted as wanting ...": X
            continue
        break
    return None


def _past_quantifier(token):
    """ "A number of large MCI shareholders": the shareholders."""
    if token.lower_ not in QUANTIFIER_NOUNS:
        return token
    of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    objects = [c for c in of.children if c.dep_ == "pobj"] if of is not None else []
    return objects[0] if objects else token


def _name_after_parenthetical_cue(cue):
    """ "The ministers' comments, said Junya Tanase of JPMorgan, were ...", '"...," said
    Nick Ross': a cue set off by a comma and followed by a person's name speaks for that
    person, whatever the parse made its subject."""
    doc = cue.doc
    after_comma = cue.i > 0 and doc[cue.i - 1].text == ","
    after_quote = cue.i > 1 and doc[cue.i - 1].text in '"”' and doc[cue.i - 2].text == "," \
        and not any(c.dep_ == "nsubj" for c in cue.children)  # '"...," said X' that the parse lost
    if not (after_comma or after_quote) or cue.i + 1 >= len(doc):
        return None
    following = doc[cue.i + 1:cue.i + 1 + TITLE_WORDS_BEFORE_NAME + 1]
    person = next((t for t in following if t.ent_type_ == "PERSON" and t.ent_iob_ == "B"), None)
    if person is None or person.pos_ != "PROPN" or \
            any(t.pos_ not in ("NOUN", "PROPN") for t in following if t.i < person.i):
        return None
    return person


def _reporting_ancestor(participle):
    """The reporting verb a participle cue continues: in "He said Mr Blair had spoken
    with sincerity, adding: ...", "adding" belongs to "said", not to "spoken"."""
    return next((a for a in participle.ancestors if _is_reporting_verb(a)), participle)


def _relative_antecedent(pronoun):
    """The noun a relative pronoun stands for: the one just before it ("Tessa Jowell
    who said", "the committee, which said"), whatever head the parse gave the clause."""
    doc = pronoun.doc
    i = pronoun.i - 1
    while i >= 0 and doc[i].is_punct:
        i -= 1
    if i >= 0 and doc[i].pos_ in ("NOUN", "PROPN"):
        return doc[i]
    return pronoun.head.head


def _directly_after_quote(token, quoted: list[tuple[int, int]]) -> bool:
    """Is only the closing mark (and a comma) between a quote and this token?"""
    text = doc_text(token.doc)
    return any(0 <= token.idx - end <= 4 and not text[end:token.idx].strip(" ,”\"'’—–-")
               for _, end in quoted)


def _speaker_surface(token, mentions: list[dict]) -> tuple[int, int]:
    """Character span of the speaker as written: the mention the subject's head is
    part of; else a person named in its phrase ("a statement from the office of
    President Masoud Barzani"); else the noun phrase ("the news outlet", "he")."""
    start, end = token.idx, token.idx + len(token)
    subtree = _own_phrase(token)
    beside = [c for c in token.head.children if c.dep_ in ("npadvmod", "appos") and c.i != token.i]
    subtree += [t for c in beside for t in c.subtree]
    kind = _kind_of(token.lower_)
    if kind is not None and kind.labels == PERSON_KIND.labels:
        # "a spokesman for the prosecutor, Alan Hevesi": the one spoken for is not the speaker.
        spoken_for = {t.i for c in token.rights if c.dep_ == "prep" and c.lower_ == "for" for t in c.subtree}
        subtree = [t for t in subtree if t.i not in spoken_for]
    people = [m for m in mentions if m["label"] == "PERSON"
              and any(m["start"] <= t.idx < m["end"] for t in subtree)]
    holding = [m for m in mentions if m["start"] <= start and end <= m["end"]]
    if holding:
        titled = [p for p in mentions if p["label"] == "PERSON"
                  and _title_between(token.doc, holding[0], p)]
        chosen = titled[0] if titled and holding[0]["label"] != "PERSON" else holding[0]
        return chosen["start"], chosen["end"]
    if token.lower_ in PERSON_PRONOUNS | THING_PRONOUNS:
        return start, end
    left = [c for c in token.lefts if c.dep_ in ("det", "amod", "compound", "poss", "nmod", "nummod")]
    first = min([c for t in left for c in t.subtree], key=lambda t: t.i, default=token)
    named = [m for m in mentions if m["start"] == end + 1 and m["label"] in ("PERSON", "ORG")]
    if named:
        return named[0]["start"], named[0]["end"]  # "the statistical office INSEE"
    if people:
        return people[-1]["start"], people[-1]["end"]
    source = _document_source(token)
    if source is not None:
        return first.idx, source[-1].idx + len(source[-1])  # "a report in the Sunday Telegraph"
    # An organisation named before the head ("human rights watchdog Amnesty
    # International", "the Iranian Tasnim agency"), not one after ("a spokesman for X"),
    # nor one a person belongs to ("the Factory Records founder").
    before_head = [t for c in [*token.lefts, *(c for c in token.children if c.dep_ == "conj")]
                   for t in c.subtree]
    organisations = [m for m in mentions if m["label"] == "ORG"
                     and any(m["start"] <= t.idx < m["end"] for t in before_head)]
    if organisations and not (kind is not None and kind.labels == PERSON_KIND.labels):  # not "MCI shareholders"
        return organisations[0]["start"], organisations[0]["end"]
    return first.idx, end


def _document_source(token) -> list | None:
    """The tokens of "in the Sunday Telegraph", "from the ministry", "revealed by the
    Electoral Commission": where a report, a statement or figures come from, which is
    who speaks through them."""
    if token.lower_ not in DOCUMENT_NOUNS:
        return None
    for child in token.rights:
        if child.dep_ == "acl" and child.tag_ == "VBN":  # "figures gathered by Netcraft"
            child = next((c for c in child.children if c.dep_ == "agent"), None)
        elif not (child.dep_ == "prep" and child.lower_ in ("in", "by", "from", "of")):
            continue
        if child is not None and any(t.pos_ == "PROPN" for t in child.subtree):
            return list(child.subtree)
    return None


def _own_phrase(token) -> list:
    """The token's phrase without possessors or relative clauses, which name someone
    else: "Mr Blair's official spokesman" is not Mr Blair, "the head of Surrey's
    Lionhead" not Surrey, "the founder, who lives in Manchester" not Manchester."""
    phrase = {t.i for t in token.subtree}
    return [t for t in token.subtree
            if not any(a.dep_ in ("poss", "relcl") and a.i != token.i and a.i in phrase
                       for a in [t, *t.ancestors])]


def _title_between(doc, organisation: dict, person: dict) -> bool:
    """ "Culture Secretary Tessa Jowell", "Usdaw general secretary John Hannett": a
    person named right after an organisation and a title or two (nouns and adjectives,
    not "Microsoft said Bill Gates")."""
    between = _tokens_between(doc, organisation["end"], person["start"])
    return 0 <= person["start"] - organisation["end"] and len(between) <= TITLE_WORDS_BEFORE_NAME \
        and all(t.pos_ in ("NOUN", "PROPN", "ADJ", "PUNCT", "CCONJ") for t in between)


@dataclass(frozen=True)
class Kind:
    """Who a pronoun or a description can stand for: entity labels, and for "he" or
    "she" a gender that the named person must not contradict; whether it is one
    person or several ("he" is not "PC owning friends"), when the words say."""
    labels: frozenset[str]
    gender: str | None = None
    plural: bool | None = None

    def agrees(self, other: "Kind") -> bool:
        """Can a description of kind `other` be who this kind stands for?"""
        same_gender = self.gender is None or other.gender in (None, self.gender)
        same_number = self.plural is None or other.plural in (None, self.plural)
        return other.labels == self.labels and same_gender and same_number

    def fits(self, doc, mention: dict, mentions: list[dict]) -> bool:
        if mention["label"] not in self.labels:
            return False
        return self.gender is None or _mention_gender(doc, mention, mentions) in (None, self.gender)


PERSON_KIND = Kind(frozenset({"PERSON"}))
ORGANISATION_KIND = Kind(frozenset(ORGANISATION_KINDS))


def _resolve(doc, span: tuple[int, int], rows: list[dict], mentions: list[dict],
             quoted: list[tuple[int, int]], cue=None) -> dict | None:
    """The mention the speaker refers to.

    A name is its own mention. "The US military" is the organisation or place its
    name is built on; "the firm" the organisation named last. "He", "she", "it" and
    definite descriptions ("the news outlet", "the committee") refer to the nearest
    earlier sentence that attributed a quote to someone of that kind, or had such a
    subject; a description also to an earlier name containing its head word ("Joint
    Committee ..."). "He" never stands for a woman's name, nor "she" for a man's.
    Indefinite descriptions ("a senior official", "analysts") are someone unnamed: no
    referent.
    """
    for mention in mentions:
        if (mention["start"], mention["end"]) == span:
            return mention
    for token in _tokens_between(doc, *span):
        source = _document_source(token)
        if source is not None:
            # Not an owner inside it: "by the UK gaming industry's trade body" is no UK.
            owned = {t.i for t in source if t.dep_ == "poss" for t in t.subtree}
            spoken_through = [m for m in mentions if m["label"] in ("PERSON", "ORG", "GPE")
                              and any(m["start"] <= t.idx < m["end"] for t in source if t.i not in owned)]
            return spoken_through[0] if spoken_through else None
    words = doc_text(doc)[span[0]:span[1]].lower().split()
    head = words[-1] if words else ""
    named = [m for m in mentions if span[0] <= m["start"] and m["end"] <= span[1]
             and m["label"] in ("ORG", "GPE") and _is_compound(doc, m)]
    if head in ORGANISATION_NOUNS and named:
        return named[-1]  # "the US military", "the Labour party"
    wanted = _kind_of(head)
    pronoun = head in PERSON_PRONOUNS | THING_PRONOUNS
    if wanted is None:
        return None
    if pronoun and cue is not None and cue.lemma_ in CONTINUING_CUES:
        # "he added", "she went on": the one who spoke last, whoever was named since.
        previous = next((row for row in reversed(rows) if row["speaker_start"] is not None
                         and span[0] - row["speaker_start"] < LOOKBACK_CHARS
                         and _speaker_fits(doc, row, wanted, mentions)), None)
        if previous is not None:
            return previous["_referent"]
    generic = head in GENERIC_ORGANISATION_NOUNS and words[0] in DEFINITE and _plain_description(doc, span)
    # "The Telegraph was sued ... after the newspaper claimed": news names an
    # organisation, then calls it "the firm", "the group": the subject named before it
    # in the sentence, else whoever the walk back finds, else the one named last.
    organisations = [m for m in mentions if m["end"] <= span[0] and m["label"] == "ORG"
                     and span[0] - m["end"] < LOOKBACK_CHARS] if generic else []
    description = _tokens_between(doc, *span)[-1]
    subjects = [m for m in organisations if any(  # of a clause the description's clause is part of
        t.dep_ in ("nsubj", "nsubjpass") and t.head in description.ancestors
        for t in _tokens_between(doc, m["start"], m["end"]))]
    if subjects:
        return subjects[-1]
    found = _described(doc, span, wanted, pronoun, words, rows, mentions, quoted)
    if (found is None or found["label"] is None) and organisations:
        return organisations[-1]
    return found


def _described(doc, span: tuple[int, int], wanted: Kind, pronoun: bool, words: list[str],
               rows: list[dict], mentions: list[dict], quoted: list[tuple[int, int]]) -> dict | None:
    """The referent of a pronoun or a description, through the lead, earlier names and
    earlier speakers and subjects (see `_resolve`)."""
    head = words[-1]
    if _opens_article(doc, span[0]) and not pronoun and not head.endswith("s"):
        return _first_subject_after(doc, span[0], wanted, mentions, quoted)
    if not pronoun and words[0] not in DEFINITE:
        return None
    earlier = [m for m in mentions if m["end"] <= span[0] and wanted.fits(doc, m, mentions)
               and span[0] - m["end"] < LOOKBACK_CHARS and not _inside(m["start"], quoted)]
    if not pronoun:
        containing = [m for m in earlier if head in m["text"].lower().split()]
        if containing:
            return containing[-1]
        # "The South African archbishop said ... The archbishop added": the one an
        # earlier speaker with the same head word was.
        described = [row["_referent"] for row in rows if row["speaker"] and row["_referent"]
                     and row["_referent"]["label"] is not None and span[0] - row["speaker_start"] < LOOKBACK_CHARS
                     and _head_word(row["speaker"]) == head]
        if described:
            return described[-1]
    found, stopped = _antecedent(doc, span[0], wanted, mentions, rows, quoted,
                                 subjects=head != "they", pronoun=head if pronoun else None)
    if found is not None or stopped:
        return found
    return earlier[-1] if earlier and pronoun and wanted.labels == PERSON_KIND.labels else None


def _description(doc, span: tuple[int, int]) -> dict | None:
    """A speaker without a name, as the article describes them ("a spokesman for the
    British Casino Association", "analysts"): a referent that is no mention. Pronouns
    and words that describe nobody give None."""
    words = doc_text(doc)[span[0]:span[1]].lower().split()
    if not words or words[-1] in PERSON_PRONOUNS | THING_PRONOUNS or _kind_of(words[-1]) is None:
        return None
    head = _tokens_between(doc, *span)[-1]
    # With what follows the head ("for the British Casino Association"), without a
    # relative clause (", which represents the UK industry").
    following = [t for c in head.rights if c.dep_ == "prep" for t in c.subtree
                 if not _in_relative_clause(t, c)]
    following = [t for t in following if not t.is_punct or t.text == ")"]
    end = max([span[1]] + [t.idx + len(t) for t in following])
    return {"start": span[0], "end": end, "text": doc_text(doc)[span[0]:end], "label": None}


def _in_relative_clause(token, top) -> bool:
    """Is `token` inside a relative clause below `top` (`top` being its ancestor)?"""
    while token.i != top.i:
        if token.dep_ == "relcl":
            return True
        token = token.head
    return False


def _plain_description(doc, span: tuple[int, int]) -> bool:
    """ "the firm", "the US airline": an article, modifiers and a head, nothing that
    names an owner or a place ("the UK's spending watchdog" describes someone new)."""
    return not any(t.dep_ == "poss" or t.tag_ == "POS" for t in _tokens_between(doc, *span))


def _opens_article(doc, char: int) -> bool:
    return _sentence_index(doc)[0][0].end_char > char


def _first_subject_after(doc, char: int, wanted: Kind, mentions: list[dict],
                         quoted: list[tuple[int, int]]) -> dict | None:
    """A news lead describes its speaker ("..., the trade and industry secretary has
    said.", "a senior government figure has warned") and the next sentences name them:
    the first of those whose subject is someone of the wanted kind."""
    sentences, _ = _sentence_index(doc)
    following = [s for s in sentences if s.start_char > char][:LEAD_NAMING_SENTENCES]
    for sentence in following:
        found, stopped = _subject_referent(sentence, wanted, mentions, quoted)
        if found is not None or stopped:
            return found if found is not None and found["label"] is not None else None
    return None


def _antecedent(doc, char: int, wanted: Kind, mentions: list[dict], rows: list[dict],
                quoted: list[tuple[int, int]], subjects: bool,
                pronoun: str | None = None) -> tuple[dict | None, bool]:
    """Walk back sentence by sentence to the nearest one that attributed a quote to
    someone of the wanted kind, or (if `subjects`) whose subject is of that kind.
    Sentences whose subject is the same pronoun continue the chain and do not count
    against the distance ("He resisted ... He became ... he said": the one named
    before them). Returns (mention, stopped): stopped is True when that someone has no
    name ("a spokesman said ... he added"), so nothing else should be guessed."""
    current = _sentence_of(doc, char)
    for row in reversed(rows):  # "John Tomaney said he hoped ... - something he says will ..."
        if row["speaker_start"] is not None and current.start_char <= row["speaker_start"] < char \
                and _speaker_fits(doc, row, wanted, mentions):
            return row["_referent"], True
    sentences = [sentence for sentence in _sentence_index(doc)[0] if sentence.end_char <= char]
    budget = SENTENCES_BACK
    for sentence in reversed(sentences):
        if budget == 0:
            break
        budget -= 1
        for row in reversed(rows):
            inside = row["speaker_start"] is not None and \
                sentence.start_char <= row["speaker_start"] < sentence.end_char
            if inside and _speaker_fits(doc, row, wanted, mentions):
                return row["_referent"], True  # a name, or the description of someone unnamed
        if not subjects:
            continue
        subject = _main_subject(sentence, quoted)
        if subject is not None and pronoun in PERSON_PRONOUNS and subject.lower_ == pronoun:
            budget = min(budget + 1, SENTENCES_BACK)
            continue
        found, stopped = _subject_referent(sentence, wanted, mentions, quoted)
        if found is not None or stopped:
            return found, stopped
        if pronoun in PERSON_PRONOUNS:
            # "One dissenting opinion came from Brian Gammage. He said: ...": the person
            # the sentence before introduced; the first of several ("None more so than
            # Henson, ... the likes of Jonny Wilkinson").
            named = [m for m in mentions if sentence.start_char <= m["start"] < sentence.end_char
                     and not _inside(m["start"], quoted) and wanted.fits(doc, m, mentions)]
            if named:
                return named[0], True
    return None, False


def _main_subject(sentence, quoted: list[tuple[int, int]]):
    return next((t for t in sentence if t.dep_ in ("nsubj", "nsubjpass") and t.head.dep_ == "ROOT"
                 and not _inside(t.idx, quoted)), None)


def _subject_referent(sentence, wanted: Kind, mentions: list[dict],
                      quoted: list[tuple[int, int]]) -> tuple[dict | None, bool]:
    """The mention a sentence's main subject names, if of the wanted kind; (None, True)
    when the subject is someone of that kind without a name ("a spokesman")."""
    subject = _main_subject(sentence, quoted)
    if subject is None or subject.pos_ == "PRON":
        return None, False
    doc = sentence.doc
    held = [m for m in mentions if m["start"] <= subject.idx < m["end"]]
    if held:
        return (held[0], True) if wanted.fits(doc, held[0], mentions) else (None, False)
    subject_kind = _kind_of(subject.lower_)
    if subject_kind is not None and wanted.agrees(subject_kind):
        return _description(doc, _speaker_surface(subject, mentions)), True
    inside = [m for m in mentions if wanted.fits(doc, m, mentions) and any(
        m["start"] <= t.idx < m["end"] for t in _own_phrase(subject))]
    return (inside[0], True) if inside else (None, False)


def _speaker_fits(doc, row: dict, wanted: Kind, mentions: list[dict]) -> bool:
    """Can the speaker of an earlier quote be the one `wanted` stands for?"""
    referent = row["_referent"]
    if referent is not None and referent["label"] is not None:
        return wanted.fits(doc, referent, mentions)
    kind = _kind_of(_head_word(referent["text"] if referent else row["speaker"]))
    return kind is not None and wanted.agrees(kind)


def _kind_of(head: str) -> Kind | None:
    """Who a pronoun or a description with this head word refers to."""
    if head in PERSON_PRONOUNS:
        return Kind(PERSON_KIND.labels, PRONOUN_GENDER.get(head), False if head in PRONOUN_GENDER else None)
    if head in PERSON_NOUNS or is_person_noun(head):
        return Kind(PERSON_KIND.labels, noun_gender(head), plural=False)
    if head in THING_PRONOUNS or head in ORGANISATION_NOUNS or head in DOCUMENT_NOUNS:
        return ORGANISATION_KIND
    if head.endswith("s") and (head[:-1] in PERSON_NOUNS or is_person_noun(head[:-1])):
        return Kind(PERSON_KIND.labels, plural=True)  # "analysts", "campaigners"
    return None


def _head_word(phrase: str) -> str:
    """The head of a description as the speaker surface gives it: its last word, or
    the word before a following "for"/"of" phrase ("a spokesman for Apple")."""
    words = phrase.lower().split()
    for i, word in enumerate(words[1:], 1):
        if word in ("for", "of", "at", "from", "in", "with"):
            return words[i - 1]
    return words[-1]


def _mention_gender(doc, mention: dict, mentions: list[dict]) -> str | None:
    """The gender a PERSON mention's honorific or first name gives (see flows.stages.people);
    a surname alone takes the first name of its fullest form in the article."""
    genders = doc.user_data.setdefault("newscorpus.genders", {})
    key = (mention["start"], mention["end"])
    if key not in genders:
        surname = mention["text"].split()[-1]
        fuller = max((m["text"] for m in mentions if m["label"] == "PERSON"
                      and m["text"].split()[-1] == surname), key=lambda t: len(t.split()),
                     default=mention["text"])
        genders[key] = name_gender(doc_text(doc), mention["start"], fuller)
    return genders[key]


def _is_compound(doc, mention: dict) -> bool:
    tokens = _tokens_between(doc, mention["start"], mention["end"])
    return any(t.dep_ == "compound" for t in tokens)


def _indirect_quotes(doc, quoted: list[tuple[int, int]], direct: list[Quote]) -> list[Quote]:
    """Reported speech without quotation marks: the clause a reporting verb takes
    ("X said (that) ...", "X warned that ...", "... , analysts said") or the sentence
    "according to X" qualifies."""
    found = []
    taken = [q.span for q in direct]
    for token in _cue_candidates(doc):
        if _inside(token.idx, quoted):
            continue
        if _according_to(token):
            clause = _according_clause(token)
        elif _is_reporting_verb(token):
            clause = _reported_clause(token) or _clause_before_final_cue(token) \
                or _clause_after_parenthetical_cue(token)
        else:
            continue
        if clause is None:
            continue
        start, end = _trim_clause(doc_text(doc), *clause)
        reach = doc_text(doc)[min(start, token.idx):max(end, token.idx)]
        if end - start < 12 or "\n\n" in reach or _overlaps((start, end), taken + quoted):
            continue  # too short, across paragraphs, or already quoted
        speaker = _speaker_of(token, quoted)
        if speaker is None or _is_quantity(speaker):
            continue
        quote = Quote(start, end, "indirect", cue=token, speaker=speaker)
        found.append(quote)
        taken.append(quote.span)
    return found


def _cue_candidates(doc) -> list:
    """The tokens whose lemma or lowercase form a cue can have, in order: found in the
    doc's arrays, without making a Token of every word (the others cannot be cues)."""
    lemmas, lowers = (column.tolist() for column in doc.to_array(["LEMMA", "LOWER"]).T)
    strings = doc.vocab.strings
    cue_lemmas = {h for h in set(lemmas) if strings[h].lower() in CUE_LEMMAS}
    cue_words = {h for h in set(lowers) if strings[h] in CUE_WORDS}
    return [doc[i] for i, (lemma, lower) in enumerate(zip(lemmas, lowers))
            if lemma in cue_lemmas or lower in cue_words]


def _is_quantity(token) -> bool:
    """ "87% said", "three-quarters of respondents said": a poll's share, not a speaker
    (unlike "one of the Guildford Four said")."""
    return token.ent_type_ == "PERCENT" or POLL_SHARE.fullmatch(token.lower_) is not None


def _final_cue(verb) -> bool:
    """ "..., points out Reuters." / "..., says the ministry.": a cue after a comma that
    only its speaker follows to the end of the sentence."""
    sentence = _sentence_of(verb.doc, verb.idx)
    before = verb.doc[verb.i - 1] if verb.i > sentence.start else None
    rest = [t for t in sentence if t.i > verb.i and not t.is_punct]
    return before is not None and before.text == "," and 0 < len(rest) <= 6


def _clause_before_final_cue(verb) -> tuple[int, int] | None:
    if not _final_cue(verb):
        return None
    paragraph_start = doc_text(verb.doc).rfind("\n\n", 0, verb.idx) + 2
    tokens = [t for t in _sentence_of(verb.doc, verb.idx) if t.i < verb.i - 1 and t.idx >= paragraph_start]
    if len(tokens) < 3:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


def _clause_after_parenthetical_cue(verb) -> tuple[int, int] | None:
    """ "Before now, he said, Apple has been seen as a premium brand", "By contrast, says
    Mr Cox, the Mac mini is almost disposable": a cue set off by commas inside the
    clause it reports speaks for the words after the second comma."""
    if verb.dep_ != "parataxis":
        return None
    doc, sentence = verb.doc, _sentence_of(verb.doc, verb.idx)
    opening = next((t for t in reversed(doc[max(sentence.start, verb.i - 3):verb.i]) if t.text == ","), None)
    closing = next((t for t in doc[verb.i + 1:min(sentence.end, verb.i + 2 + TITLE_WORDS_BEFORE_NAME)]
                    if t.text == ","), None)
    if opening is None or closing is None:
        return None
    tokens = [t for t in sentence if t.i > closing.i and not t.is_space]
    if len(tokens) < 3:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


def _reported_clause(verb) -> tuple[int, int] | None:
    clauses = [c for c in verb.children if c.dep_ == "ccomp"]
    if not clauses:
        return None
    clause = clauses[0]
    if clause.pos_ == "ADJ":  # "made it clear that ...": the clause the adjective takes
        clause = next((c for c in clause.children if c.dep_ in ("ccomp", "advcl")
                       and any(m.dep_ == "mark" for m in c.children)), clause)
    # "X said it was wrong, adding they would ...": the participle reports apart.
    reported_apart = {t.i for c in clause.children if c.dep_ in ("advcl", "conj") and c.tag_ == "VBG"
                      and _is_reporting_verb(c) for t in c.subtree}
    tokens = [t for t in clause.subtree if not (t.dep_ == "mark" and t.head.i == clause.i)
              and t.i not in reported_apart]
    tokens = [t for t in tokens if t.i > verb.i] if clause.i > verb.i else [t for t in tokens if t.i < verb.i]
    if len(tokens) < 3:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


def _according_clause(according) -> tuple[int, int] | None:
    sentence = _sentence_of(according.doc, according.idx)
    phrase = list(according.subtree)
    phrase_start, phrase_end = phrase[0].i, phrase[-1].i
    head_tokens = [t for t in sentence if t.i < phrase_start]
    tail_tokens = [t for t in sentence if t.i > phrase_end]
    tokens = tail_tokens if len(tail_tokens) > len(head_tokens) else head_tokens
    tokens = [t for t in tokens if not t.is_punct or t is not tokens[0]]
    if len(tokens) < 3:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


def _trim_clause(text: str, start: int, end: int) -> tuple[int, int]:
    """No leading or trailing punctuation or spaces; no final full stop."""
    while start < end and (text[start].isspace() or text[start] in ",;:-—–"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:-—–"):
        end -= 1
    return start, end


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)
