"""Reading landing files and reading/writing the warehouse."""
