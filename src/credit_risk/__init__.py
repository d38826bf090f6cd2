"""credit-risk"""

__version__ = "0.1"
