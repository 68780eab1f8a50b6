import sys

from faceedit.cli.main import main

sys.exit(main())
