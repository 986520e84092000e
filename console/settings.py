"""Settings of the agent console (composed into the main settings as ``console``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsoleSettings(BaseModel):
    """Agent console sign-in: session lifetime and the failed-login block."""

    model_config = ConfigDict(extra="forbid")

    session_idle_s: float = Field(3600.0, gt=0, description="A console session unused this long ends.")
    session_max_s: float = Field(12 * 3600.0, gt=0, description="No console session outlives this (a long shift).")
    login_fail_limit: int = Field(5, ge=1, description="Failed sign-ins from one address within the window "
                                                       "before it is blocked.")
    login_fail_window_s: float = Field(60.0, gt=0, description="The window failed sign-ins are counted in.")
    login_block_s: float = Field(300.0, gt=0, description="How long a blocked address waits.")
    account_fail_limit: int = Field(10, ge=1, description="Failed sign-ins to one user name, from any address, "
                                    "within account_fail_window_s before the account is locked.")
    account_fail_window_s: float = Field(900.0, gt=0, description="The window failed sign-ins to one user name "
                                         "are counted in.")
    account_block_s: float = Field(900.0, gt=0, description="How long a locked account refuses sign-ins (even "
                                   "the right password); a password change by an admin does not wait for it.")
