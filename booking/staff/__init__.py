"""The staff side: accounts and roles, sign-in with a second factor, server-side sessions,
and what each member of staff may reach (../docs/decisions.md, "The staff side")."""
