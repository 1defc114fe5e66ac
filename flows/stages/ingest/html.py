"""Main-article extraction from a news web page: body text and metadata.

trafilatura finds the main text and reads the page's metadata (its dates come from
htmldate); the page's own structured data is read here: JSON-LD (`@graph` and lists
flattened), OpenGraph and other meta tags, the canonical link, `<html lang>`. Each field
takes the source that measured best on the 181 pages of the ScrapingHub
article-extraction benchmark (benchmarks/html_extraction.py prints the text figures):

- text: trafilatura in precision mode, comments off, which beats its default settings
  on the benchmark (comments are never article text; precision mode drops more related
  links and promotions). Precision mode can throw the article away and keep a notice
  ("This copy is for your personal, non-commercial use only"): when it keeps under a
  fifth of what the balanced mode finds, the balanced text is taken. The headline,
  which trafilatura often repeats as the first line, is dropped. JSON-LD `articleBody`
  (tags stripped) scored worse than this on 8 of the 16 pages that have one, better on
  1 (teasers, no paragraphs), so it is only the fallback when trafilatura finds nothing.
- title: the page's visible headline, an <h1> that a declared title (JSON-LD
  `headline`, og:title, <title>) agrees with: pages also have h1s for the site's name
  or a section. Else JSON-LD `headline` (og:title and <title> often carry the site's
  name or a section: "Opinion | ..."), else og:title, else <title>.
- authors: JSON-LD `author` people (names as written, with their punctuation), else
  the author meta tag, else trafilatura's byline search; organisations and desks
  ("Associated Press", "HNN Staff") are not people.
- published_date: trafilatura's (htmldate, which reads a date in the URL first). It
  matched the URL's date on 47 of the 48 pages that have one. JSON-LD `datePublished`
  and article:published_time differ from it on 13 pages, each time by giving the next
  day (the UTC one: "2019-11-20T01:50Z" for an evening story of the 19th) or a
  placeholder (0001-01-01); on the 11 of those with a date in the URL, it is the URL's.
- url: <link rel=canonical>, else og:url, else JSON-LD `url`/`mainEntityOfPage`, else
  the URL given: in this order 165 of the 181 matched the benchmark's URL, with og:url
  first 160 (og:url is often http:// or lacks the article id).
- outlet: og:site_name, else JSON-LD `publisher.name` (on syndicated pages that is the
  wire service), else application-name, else what <title> adds after the headline;
  an all-lower-case slug ("nj", "livescience.com") only when there is nothing better.
- language: <html lang>, else JSON-LD `inLanguage`, else og:locale (they never
  disagreed on the benchmark).

Nothing is fetched: trafilatura and htmldate only read the tree given to them. The same
page gives the same article, with one caveat from htmldate: it ignores dates after the
day it runs, so a page dated in the future gets its date only once that day has come.
"""

from __future__ import annotations

import datetime as dt
import html as html_entities
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Document
from trafilatura.utils import load_html

from flows.stages.ingest.formats import section_of, tags_of
from flows.stages.normalise.dates import MONTHS, WEEKDAYS

PRECISION_SHARE = 0.2  # precision mode below this share of the balanced text lost the article
HEADLINE_AGREEMENT = 0.5  # share of words an h1 and a declared title have in common
WORD = re.compile(r"\w+")
BLOCK_TAG = re.compile(r"<(?:/?(?:p|div|h[1-6]|li|blockquote)|br)\b[^>]*>", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")
BYLINE = re.compile(r"^(?:\w+\s+)?by\s+", re.IGNORECASE)  # "By ", "Analysis by "
AFFILIATION = re.compile(r"\s*(?:,|\|| - | – ).*$")  # "TOM KRISHER, AP Auto Writer"
NAME_SEPARATOR = re.compile(r"\s+(?:and|&)\s+|\s*;\s*", re.IGNORECASE)
NOT_PEOPLE = re.compile(r"\b(?:staff|bureau|desk|team|press|news|editorial|reports?|wire|services|media)\b",
                        re.IGNORECASE)
DATE_WORDS = set(MONTHS) | set(WEEKDAYS)  # trafilatura's byline search runs on into the dateline
TITLE_SEPARATOR = re.compile(r"\s+[-|–—:•·]\s+|\s*\|\s*")
LANGUAGE = re.compile(r"([a-z]{2})(?:[-_]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class WebArticle:
    text: str                 # body: paragraphs separated by "\n\n", no title, no boilerplate; "" if none found
    title: str | None
    authors: list[str]        # people's names as written, in order, de-duplicated
    published_date: dt.date | None
    url: str | None           # canonical URL of the article
    outlet: str | None        # publisher / site name ("The New York Times")
    language: str | None      # as the page declares it (html lang / JSON-LD inLanguage), ISO 639-1 lower case, or None
    section: str | None = None  # JSON-LD articleSection, else <meta property="article:section">
    tags: list[str] = field(default_factory=list)  # JSON-LD keywords, else every article:tag / news_keywords


def extract_web_article(html: str, url: str | None = None) -> WebArticle:
    """The main article of the web page `html` (fetched from `url`, if known)."""
    tree = _parse(html)
    if tree is None:
        return WebArticle("", None, [], None, url, None, None)
    objects = _json_ld_objects(tree)
    article = next((o for o in objects if _is_article(o)), {})
    meta = _meta_tags(tree)
    found = _metadata(tree, url)
    title = _title(tree, article, meta)
    outlet = _outlet(tree, article, meta, title)
    return WebArticle(
        text=_body(tree, article, title),
        title=title,
        authors=_authors(article, objects, meta, found, outlet),
        published_date=dt.date.fromisoformat(found.date) if found.date else None,
        url=_canonical(tree, article, meta, url),
        outlet=outlet,
        language=_language(tree, article, meta),
        section=section_of(article.get("articleSection")) or meta.get("article:section"),
        tags=(tags_of(article.get("keywords")) or _meta_tags_all(tree, "article:tag")
              or tags_of(meta.get("news_keywords"))),
    )


def _json_ld_objects(tree: HtmlElement) -> list[dict]:
    """Every object of the page's JSON-LD, in order, `@graph` members and list items flattened."""
    found = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content(), strict=False)
        except (ValueError, RecursionError):
            continue  # broken JSON-LD is common; the page's other sources remain
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack[:0] = item
            elif isinstance(item, dict):
                found.append(item)
                if isinstance(item.get("@graph"), list):
                    stack[:0] = item["@graph"]
    return found


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """The content of each <meta> by property, name or itemprop (lower case); the first one wins."""
    tags = {}
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = _clean(meta.get("content"))
        if key and content:
            tags.setdefault(key, content)
    return tags


def _meta_tags_all(tree: HtmlElement, key: str) -> list[str]:
    """The content of every <meta property=`key`>, in order (article:tag repeats)."""
    return tags_of([meta.get("content") for meta in tree.xpath("//meta[@content]")
                    if (meta.get("property") or meta.get("name") or "").strip().lower() == key])


def _parse(html: str) -> HtmlElement | None:
    try:
        return load_html(html)  # None when it is not HTML at all
    except (TypeError, ValueError):
        return None


def _metadata(tree: HtmlElement, url: str | None) -> Document:
    try:
        return extract_metadata(tree, default_url=url)
    except Exception:  # third-party heuristics: a page they choke on just has no metadata from them
        return Document()


def _trafilatura_text(tree: HtmlElement, favor_precision: bool) -> str:
    try:
        return trafilatura.extract(tree, include_comments=False, favor_precision=favor_precision) or ""
    except Exception:  # as above: no text rather than a failed ingest
        return ""


def _body(tree: HtmlElement, article: dict, title: str | None) -> str:
    precise, balanced = _trafilatura_text(tree, True), _trafilatura_text(tree, False)
    text = precise if len(precise) >= PRECISION_SHARE * len(balanced) else balanced
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    if paragraphs and title and _words(paragraphs[0]) == _words(title):
        paragraphs = paragraphs[1:]
    if not paragraphs:
        body = article.get("articleBody")
        # some sites put HTML in it: its paragraphs are paragraphs, its other tags go
        text = html_entities.unescape(TAG.sub(" ", BLOCK_TAG.sub("\n", body))) if isinstance(body, str) else ""
        paragraphs = [_clean(p) for p in text.split("\n") if _clean(p)]
    return "\n\n".join(paragraphs)


def _title(tree: HtmlElement, article: dict, meta: dict[str, str]) -> str | None:
    declared = [t for t in (_string(article.get("headline")), meta.get("og:title"), _title_tag(tree)) if t]
    for h1 in tree.iterfind(".//h1"):
        heading = _clean(h1.text_content())
        if heading and any(_agree(heading, t) for t in declared):
            return heading
    return declared[0] if declared else None


def _agree(heading: str, title: str) -> bool:
    """Most words of each are in the other: a site's name in <h1> does not agree with "Headline | Site"."""
    a, b = set(_words(heading)), set(_words(title))
    return len(a & b) >= HEADLINE_AGREEMENT * max(len(a), len(b), 1)


def _outlet(tree: HtmlElement, article: dict, meta: dict[str, str], title: str | None) -> str | None:
    headlines = [title, _string(article.get("headline")), meta.get("og:title")]
    candidates = [meta.get("og:site_name"), _name(article.get("publisher")), meta.get("application-name"),
                  next((s for s in (_title_suffix(tree, h) for h in headlines if h) if s), None)]
    candidates = [c for c in candidates if c and not c.startswith(("http", "@"))]
    named = [c for c in candidates if not (c.isascii() and c == c.lower())]
    return (named or candidates or [None])[0]


def _title_suffix(tree: HtmlElement, title: str) -> str | None:
    """What <title> adds after a headline: "... - The New York Times" gives the site's name."""
    page_title = _title_tag(tree)
    if not page_title or title.casefold() not in page_title.casefold():
        return None
    rest = page_title[page_title.casefold().index(title.casefold()) + len(title):]
    parts = [p.strip() for p in TITLE_SEPARATOR.split(rest) if p.strip()]
    return parts[-1] if parts else None


def _authors(article: dict, objects: list[dict], meta: dict[str, str], found: Document,
             outlet: str | None) -> list[str]:
    by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}
    sources = [_json_ld_people(article.get("author"), by_id), [meta.get("author")], [found.author]]
    for names in sources:
        people = _people([n for n in names if n], outlet)
        if people:
            return people
    return []


def _json_ld_people(value, by_id: dict[str, dict]) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _json_ld_people(item, by_id)]
    if isinstance(value, str):
        return [value]
    if not isinstance(value, dict):
        return []
    if set(value) == {"@id"}:  # a reference to a Person elsewhere in the @graph (Yoast's habit)
        value = by_id.get(value["@id"], {})
    kinds = value.get("@type") or value.get("type") or "Person"
    kinds = kinds if isinstance(kinds, list) else [kinds]
    is_person = any(isinstance(k, str) and k.lower() == "person" for k in kinds)
    return _json_ld_people(value.get("name"), by_id) if is_person else []


def _people(names: list[str], outlet: str | None) -> list[str]:
    people, seen = [], {(outlet or "").casefold()}
    for raw in names:
        byline = AFFILIATION.sub("", BYLINE.sub("", _clean(raw)))
        for name in NAME_SEPARATOR.split(byline):
            words = name.split()
            while words and words[-1].lower().strip(",.") in DATE_WORDS:
                words.pop()
            name = " ".join(words)
            # a byline of one word ("Reuters", "admin", "Editorial") is not a person's name
            if len(words) < 2 or NOT_PEOPLE.search(name) or "@" in name or "://" in name:
                continue
            if name.casefold() not in seen:
                seen.add(name.casefold())
                people.append(name)
    return people


def _canonical(tree: HtmlElement, article: dict, meta: dict[str, str], url: str | None) -> str | None:
    entity = article.get("mainEntityOfPage")
    entity = entity.get("@id") or entity.get("url") if isinstance(entity, dict) else entity
    candidates = tree.xpath('//link[@rel="canonical"]/@href') + [meta.get("og:url"), article.get("url"), entity, url]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            # a relative canonical link is relative to the page's own address
            absolute = urljoin(url or meta.get("og:url") or "", candidate.strip())
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return None


def _language(tree: HtmlElement, article: dict, meta: dict[str, str]) -> str | None:
    for declared in (tree.get("lang"), article.get("inLanguage"), meta.get("og:locale")):
        match = LANGUAGE.match(declared.strip()) if isinstance(declared, str) else None
        if match:
            return match[1].lower()
    return None


def _is_article(item: dict) -> bool:
    """schema.org's article types: Article, NewsArticle, ReportageNewsArticle, ..., BlogPosting."""
    kinds = item.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.endswith(("Article", "BlogPosting")) for k in kinds)


def _name(value) -> str | None:
    value = value[0] if isinstance(value, list) and value else value
    return _string(value.get("name")) if isinstance(value, dict) else _string(value)


def _title_tag(tree: HtmlElement) -> str | None:
    element = tree.find(".//head//title")  # not an <svg>'s <title>
    return _clean(element.text_content()) if element is not None else None


def _string(value) -> str | None:
    """A JSON-LD text, its HTML entities decoded ("&#8216;")."""
    return _clean(html_entities.unescape(value)) if isinstance(value, str) else None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _words(text: str) -> list[str]:
    return WORD.findall(text.casefold())
