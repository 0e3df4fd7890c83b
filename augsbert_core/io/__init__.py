"""Data in and out: tables read within limits, pairs validated and mapped, every input of an experiment loaded once."""
