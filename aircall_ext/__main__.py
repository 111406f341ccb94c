from aircall_ext.cli import main

main()
