"""Ledger: accounts and money amounts for the billing scripts."""
import os

from .money import Money, parse_money, ZERO
from .accounts import Account, open_account, transfer
from .accounts import format_amount, format_statement

__all__ = ["Money", "parse_money", "Account", "transfer"]

__version__ = "1.4"
