"""The staff suites: the app and its database as every integration test gets them, and the
small practice, whose therapist `ana` a therapist's account may belong to."""
