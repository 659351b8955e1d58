import re
import os

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)


def is_blank(value):
    if value == None:
        return True
    if value.strip() == "":
        return True
    else:
        return False


def is_email(value):
    if is_blank(value):
        return False
    if _EMAIL_RE.match(value):
        return True
    else:
        return False


def is_int(value):
    try:
        int(value)
        return True
    except:
        return False


def is_port(value):
    if is_int(value) == True:
        n = int(value)
        if n > 0:
            if n < 65536:
                return True
    return False


def is_enabled(flag):
    if flag != True:
        return False
    return True


def is_number(value):
    if type(value) == int or type(value) == float:
        return True
    return False


def is_list_of_str(value):
    if type(value) != list:
        return False
    for v in value:
        if not isinstance(v, str):
            return False
    return True


def is_hex_color(value):
    if value == None or len(value) != 7:
        return False
    if not value.startswith("#"):
        return False
    try:
        int(value[1:], 16)
    except:
        return False
    return True


def check_user(user):
    errors = []
    if user.get("name") == None:
        errors.append("name is required")
    if not is_email(user.get("email")):
        errors.append("email is invalid")
    if user.has_key("port") if hasattr(user, "has_key") else "port" in user:
        if not is_port(user["port"]):
            errors.append("port is invalid")
    if len(errors) == 0:
        return None
    else:
        return errors
