from talkapp.cli import main

raise SystemExit(main())
