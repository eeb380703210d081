"""Start the cqvet-qa chat UI (builds the index first if it is missing or stale).

    python app.py [--host 127.0.0.1] [--port 7860]
"""

import sys

from cqvet_qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
