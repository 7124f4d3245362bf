from risk_models.cli import main

raise SystemExit(main())
