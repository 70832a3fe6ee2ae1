#!/usr/bin/env python3
"""Writes vimon.conf(5) from its template and config/vimon.conf.example.

The example file is the one source of truth for the configuration keys: each key is
documented by the comment block just above its first appearance (a commented-out
`# key = value;` line counts). Keys at the top level of the file and keys inside a
group (such as each element of `targets`) get a list each, in file order.

Usage: conf2man.py TEMPLATE EXAMPLE OUTPUT (the template's line @KEYS@ is replaced).
"""
import re
import sys

KEY = re.compile(r'^()([a-z_][a-z0-9_]*)\s*=\s*(.*?)\s*$')


def roff_line(text):
    """One text line for roff: backslashes escaped, no control character first."""
    text = text.replace('\\', '\\e')
    if text.startswith(('.', "'")):
        text = '\\&' + text
    return text


def text_lines(words_text, width=78):
    """A paragraph as roff text lines: one sentence per line (as mandoc wants), each
    wrapped at width bytes between words."""
    out = []
    for sentence in re.split(r'(?<=[.!?])\s+(?=[A-Z(`"])', words_text.strip()):
        line = ''
        for word in sentence.split():
            if line and len(line) + 1 + len(word) > width:
                out.append(roff_line(line))
                line = word
            else:
                line = line + ' ' + word if line else word
        if line:
            out.append(roff_line(line))
    return out


STRUCTURE = re.compile(r'^[{}()\[\],;]+$')


def split_line(line):
    """(indent, text, commented): the indentation of the content, counting a commented
    line's content as indented like the '#' plus what follows it beyond one space, and
    the content without the '#'."""
    stripped = line.lstrip()
    indent = len(line) - len(stripped)
    if not stripped.startswith('#'):
        return indent, stripped.rstrip(), False
    body = stripped[1:]
    inner = len(body) - len(body.lstrip())
    return indent + max(inner - 1, 0), body.strip(), True


def parse(path):
    """[(group, key, example, [comment lines])] in file order, first appearance only.
    group is None for the top level, else the top-level key whose group or list holds
    the key. Commented-out settings count, at the indentation of their content."""
    entries, seen, comment, group = [], set(), [], None
    with open(path, encoding='utf-8') as f:
        for raw in f:
            indent, text, commented = split_line(raw.rstrip('\n'))
            m = KEY.match(text)
            if m and m.group(3).endswith((';', '(', '{')):
                _, key, value = m.groups()
                if indent == 0:
                    group = key if value in ('(', '{') or value.endswith(('(', '{')) else None
                where = None if indent == 0 else group
                if comment and (where, key) not in seen:
                    seen.add((where, key))
                    entries.append((where, key, text, comment))
                comment = []
            elif commented and text.startswith('#'):
                comment.append(text.lstrip('#').strip())
            elif commented and text and not STRUCTURE.match(text):
                comment.append(text)
            elif commented and not text:
                comment.append('')
            else:
                comment = []
    return entries


def render(entries):
    out, groups = [], []
    for where, *_ in entries:
        if where not in groups:
            groups.append(where)
    for g in groups:
        if g is None:
            out.append('.Ss Top-level keys')
        else:
            out.append('.Ss Keys in %s' % g)
        out.append('.Bl -tag -width Ds')
        for where, key, example, comment in entries:
            if where != g:
                continue
            out.append('.It Cm %s' % key)
            paras = [[]]
            for c in comment:
                if c:
                    paras[-1].append(c)
                elif paras[-1]:
                    paras.append([])
            for i, p in enumerate(x for x in paras if x):
                if i:
                    out.append('.Pp')
                out.extend(text_lines(' '.join(p)))
            if example.endswith(';'):  # not for a group: its keys follow
                out.append('.Pp')
                out.append('Example:')
                out.append('.Bd -literal -offset indent')
                out.append(roff_line(example))
                out.append('.Ed')
        out.append('.El')
    return '\n'.join(out) + '\n'


def main():
    template, example, output = sys.argv[1:4]
    with open(template, encoding='utf-8') as f:
        text = f.read()
    if '@KEYS@\n' not in text:
        sys.exit('conf2man: no @KEYS@ line in %s' % template)
    entries = parse(example)
    if not entries:
        sys.exit('conf2man: no documented key in %s' % example)
    with open(output, 'w', encoding='utf-8') as f:
        f.write(text.replace('@KEYS@\n', render(entries)))


if __name__ == '__main__':
    main()
