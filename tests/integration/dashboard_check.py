#!/usr/bin/env python3
"""Checks a Grafana dashboard against a live Prometheus, as TAP lines ("ok - ..." /
"not ok - ..."): Grafana 9+ schema, the datasource/target/cluster variables, unique panel
ids, and every panel query run with its variables substituted (query variables resolved
through Prometheus the way Grafana does, All = every value) must return data.

Usage: dashboard_check.py DASHBOARD.json PROMETHEUS_URL. Exit 0 when all pass, else 1.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

failed = False


def tap(good, desc):
    global failed
    print(('ok - ' if good else 'not ok - ') + desc)
    failed = failed or not good


def get(prom, path, params):
    url = prom + path + '?' + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=20) as r:
        doc = json.load(r)
    if doc.get('status') != 'success':
        raise ValueError(doc.get('error', 'query failed'))
    return doc['data']


def substitute(text, values):
    for name in sorted(values, key=len, reverse=True):
        text = text.replace('${%s}' % name, values[name]).replace('$' + name, values[name])
    return text


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get('panels', []))


def main():
    dash_path, prom = sys.argv[1], sys.argv[2].rstrip('/')
    with open(dash_path, encoding='utf-8') as f:
        dash = json.load(f)
    tap(dash.get('schemaVersion', 0) >= 36,
        'schemaVersion %s is Grafana 9 or later (36+)' % dash.get('schemaVersion'))
    variables = {v.get('name'): v for v in dash.get('templating', {}).get('list', [])}
    ds = variables.get('datasource', {})
    tap(ds.get('type') == 'datasource' and ds.get('query') == 'prometheus',
        'a datasource variable of type prometheus')
    for name in ('target', 'cluster'):
        tap(variables.get(name, {}).get('type') == 'query', 'a %s query variable' % name)
    ids = [p.get('id') for p in all_panels(dash.get('panels', []))]
    tap(len(ids) == len(set(ids)) and None not in ids, 'panel ids are unique (%d panels)' % len(ids))

    # Variables in order: later ones may use earlier ones (cluster uses target).
    values = {'__rate_interval': '1m', '__interval': '15s'}
    for name, v in variables.items():
        if v.get('type') != 'query':
            continue
        m = re.fullmatch(r'label_values\((.*),\s*(\w+)\)', v.get('definition', '').strip())
        if not m:
            tap(False, 'variable %s: a label_values(selector, label) query' % name)
            continue
        selector, label = substitute(m.group(1), values), m.group(2)
        got = get(prom, '/api/v1/label/%s/values' % label, {'match[]': selector})
        got = [x for x in got if x]
        tap(bool(got), 'variable %s has values: %s' % (name, ', '.join(got[:5])))
        values[name] = '(' + '|'.join(re.escape(x) for x in got) + ')' if got else v.get('allValue', '.*')

    for p in all_panels(dash.get('panels', [])):
        if p.get('type') == 'row':
            continue
        targets = p.get('targets', [])
        tap(bool(targets), 'panel %s "%s" has queries' % (p.get('id'), p.get('title')))
        for t in targets:
            expr = substitute(t.get('expr', ''), values)
            try:
                result = get(prom, '/api/v1/query', {'query': expr})['result']
                tap(len(result) > 0, 'panel %s "%s" %s returns data (%d series)' %
                    (p.get('id'), p.get('title'), t.get('refId'), len(result)))
            except Exception as e:  # a query error is a failure with its message
                tap(False, 'panel %s "%s" %s: %s' % (p.get('id'), p.get('title'), t.get('refId'), e))
                print('# query: ' + expr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
