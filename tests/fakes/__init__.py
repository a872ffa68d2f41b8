"""Local servers that speak the providers' wire formats, for tests over real HTTP."""
