from gridcc.cli import main

main()
