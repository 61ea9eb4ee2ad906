#!/usr/bin/env python3
"""Renders Markdown files as GitHub does (cmark-gfm with GitHub's extensions: tables,
strikethrough, autolinks, task lists) and reports what markup the rendering holds.

Raw HTML is let through (CMARK_OPT_UNSAFE), so any HTML that reaches a file shows up as a tag.

    check-markdown.py FILE...

Prints one JSON object: {"FILE": {"tags": [sorted tag names], "links": [href and src values]}}.
"""
import html.parser
import json
import sys

import cmarkgfm
from cmarkgfm.cmark import Options


class Markup(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.links += [value or "" for name, value in attrs if name in ("href", "src", "srcset", "action")]


def main(paths):
    found = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            rendered = cmarkgfm.github_flavored_markdown_to_html(handle.read(), options=Options.CMARK_OPT_UNSAFE)
        markup = Markup()
        markup.feed(rendered)
        found[path] = {"tags": sorted(markup.tags), "links": markup.links}
    json.dump(found, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
