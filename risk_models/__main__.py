from risk_models.cli.main import main

raise SystemExit(main())
