"""Run the fuzz suite and print its counts (inputs tried, clear errors, counted skips, tracebacks).

    python tests/test_fuzz/report_counts.py                       # default selection (~1-2 min CPU)
    python tests/test_fuzz/report_counts.py -m 'slow or not slow'  # + the slow subprocess cases

Extra arguments go to pytest. Exit status: pytest's, or 1 if any traceback was the only message.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'fuzz_counts.json')
        env = dict(os.environ, FUZZ_COUNTS_JSON=path)
        rc = subprocess.call([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/test_fuzz',
                              *args], cwd=ROOT, env=env)
        if not os.path.exists(path):
            print('report_counts: the fuzz suite wrote no counts', file=sys.stderr)
            return rc or 1
        with open(path) as f:
            data = json.load(f)
    print('\nfuzz counts by target and outcome:')
    for key, n in data['by_target'].items():
        print(f'  {key:32s} {n}')
    print(f"inputs tried {data['inputs_tried']}: accepted {data['accepted']}, clear errors {data['clear_error']}, "
          f"counted skips {data['counted_skip']}, tracebacks-as-message {data['traceback']}, "
          f"silent successes {data.get('silent_success', 0)}")
    return rc or int(data['traceback'] > 0 or data.get('silent_success', 0) > 0)


if __name__ == '__main__':
    sys.exit(main())
