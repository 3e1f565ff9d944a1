from booking.cli import main

main()
