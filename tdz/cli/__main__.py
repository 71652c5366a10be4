from tdz.cli import main

main()
