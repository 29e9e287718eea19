from tradekit.cli import main

raise SystemExit(main())
