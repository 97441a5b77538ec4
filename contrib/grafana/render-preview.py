#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A preview of contrib/grafana/zonegate.json without Grafana (not in Debian).

Evaluates each panel's own PromQL queries against a real Prometheus and draws
the panels in the dashboard's grid layout (gridPos) with gnuplot:

  render-preview.py check DASHBOARD
      every panel query is one this script understands (exit 1 naming the
      panel and query that is not);
  render-preview.py fetch DASHBOARD URL START END STEP OUT.json
      runs every query over [START, END] (Unix seconds, STEP seconds) against
      the Prometheus at URL (/api/v1/query_range) and saves the series;
  render-preview.py draw DASHBOARD IN.json OUT.png
      draws the saved series, one plot per panel at its grid position.

contrib/grafana/preview-run.sh produces IN.json from a demo run; see
doc/status.md ("The dashboard").
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

# A query is a sum of terms, each a selector METRIC{LABEL OP "VALUE", ...}
# or time(); the dashboard needs no more (check fails on anything else).
LABEL = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"[^"]*"\s*'
SELECTOR = r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{(%s(,%s)*)?\})?' % (LABEL, LABEL)
TERM = r'\s*(time\(\)|%s)\s*' % SELECTOR
QUERY = re.compile(r'^%s([-+]%s)*$' % (TERM, TERM))
VARIABLES = {'$zone': '.*', '${zone}': '.*'}


def die(msg):
    sys.stderr.write('render-preview: %s\n' % msg)
    sys.exit(1)


def panels(path):
    try:
        with open(path) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        die('%s: %s' % (path, e))
    out = []
    for p in dash.get('panels', []):
        if p.get('type') == 'row':
            continue
        g = p.get('gridPos') or die('panel "%s" has no gridPos' % p.get('title'))
        for k in ('x', 'y', 'w', 'h'):
            if not isinstance(g.get(k), int):
                die('panel "%s": gridPos.%s is not an integer' % (p.get('title'), k))
        out.append(p)
    if not out:
        die('%s: no panels' % path)
    return out


def expand(expr):
    for k, v in VARIABLES.items():
        expr = expr.replace(k, v)
    return expr


def check(path):
    bad = 0
    for p in panels(path):
        targets = p.get('targets') or []
        if not targets:
            print('panel "%s": no queries' % p.get('title'))
            bad = 1
        for t in targets:
            expr = t.get('expr', '')
            if not QUERY.match(expand(expr)):
                print('panel "%s": query not understood: %s' % (p.get('title'), expr))
                bad = 1
    return bad


def fetch(path, url, start, end, step, out):
    res = []
    for p in panels(path):
        series = []
        for t in p.get('targets') or []:
            q = urllib.parse.urlencode({'query': expand(t['expr']), 'start': start,
                                        'end': end, 'step': step})
            try:
                with urllib.request.urlopen('%s/api/v1/query_range?%s' % (url, q), timeout=30) as r:
                    body = json.load(r)
            except Exception as e:
                die('query %s: %s' % (t['expr'], e))
            if body.get('status') != 'success':
                die('query %s: %s' % (t['expr'], body.get('error')))
            for s in body['data']['result']:
                series.append({'legend': legend(t, s['metric']),
                               'values': [[float(a), float(b)] for a, b in s['values']]})
        res.append({'title': p.get('title'), 'series': series})
    with open(out, 'w') as f:
        json.dump({'start': float(start), 'end': float(end), 'panels': res}, f)


def legend(target, labels):
    fmt = target.get('legendFormat')
    if fmt:
        return re.sub(r'\{\{\s*(\w+)\s*\}\}', lambda m: labels.get(m.group(1), ''), fmt)
    name = labels.get('__name__', target['expr'])
    extra = ','.join('%s=%s' % (k, v) for k, v in sorted(labels.items())
                     if k not in ('__name__', 'job', 'instance', 'zone', 'module'))
    return name + ('{%s}' % extra if extra else '')


def draw(path, data, out):
    ps = panels(path)
    with open(data) as f:
        d = json.load(f)
    if len(d['panels']) != len(ps):
        die('%s has %d panels, %s has %d' % (data, len(d['panels']), path, len(ps)))
    rows = max(p['gridPos']['y'] + p['gridPos']['h'] for p in ps)
    width, height = 1600, int(rows * 30)
    t0 = d['start']
    tmp = tempfile.mkdtemp(prefix='zg-preview.')
    gp = ['set terminal pngcairo size %d,%d font "DejaVu Sans,9" background rgb "#ffffff"' % (width, height),
          'set output "%s"' % out, 'set multiplot', 'set key top left font ",7" opaque',
          'set grid', 'set xlabel "minutes into the run" offset 0,0.5', 'set format y "%.10g"',
          'set xrange [0:%g]' % ((d['end'] - t0) / 60.0)]
    for i, (p, pd) in enumerate(zip(ps, d['panels'])):
        g = p['gridPos']
        gp.append('set origin %g,%g' % (g['x'] / 24.0, 1 - (g['y'] + g['h']) / float(rows)))
        gp.append('set size %g,%g' % (g['w'] / 24.0, g['h'] / float(rows)))
        gp.append('set title "%s"' % p['title'].replace('"', "'"))
        plots = []
        for j, s in enumerate(pd['series']):
            fn = os.path.join(tmp, '%d-%d.dat' % (i, j))
            with open(fn, 'w') as f:
                prev = None
                for t, v in s['values']:
                    if prev is not None and t - prev > 60:
                        f.write('\n')  # a gap in the scrapes is a gap in the line
                    f.write('%.6f %.17g\n' % ((t - t0) / 60.0, v))
                    prev = t
            plots.append('"%s" using 1:2 with lines lw 2 title "%s"' % (fn, s['legend'].replace('"', "'")))
        if plots:
            vs = [v for s in pd['series'] for _, v in s['values']]
            lo, hi = min(vs), max(vs)
            pad = (hi - lo) * 0.1 or max(1.0, abs(hi) * 1e-9)
            gp.append('set yrange [%.17g:%.17g]' % (lo - pad, hi + pad))
            gp.append('plot ' + ', '.join(plots))
        else:
            gp.append('set label 1 "no data" at graph 0.5,0.5 center')
            gp.append('set yrange [0:1]')
            gp.append('plot NaN notitle')
            gp.append('unset label 1')
    gp.append('unset multiplot')
    r = subprocess.run(['gnuplot'], input='\n'.join(gp) + '\n', text=True)
    for fn in os.listdir(tmp):
        os.unlink(os.path.join(tmp, fn))
    os.rmdir(tmp)
    if r.returncode != 0:
        die('gnuplot failed')


def main(argv):
    if len(argv) == 3 and argv[1] == 'check':
        return check(argv[2])
    if len(argv) == 8 and argv[1] == 'fetch':
        fetch(*argv[2:])
        return 0
    if len(argv) == 5 and argv[1] == 'draw':
        draw(*argv[2:])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
