"""Block Kit limits the fake enforces, so a message Slack would refuse is refused here too.

Each check returns Slack-style problem strings ("… [json-pointer:/blocks/0/text]"); an empty list
means the payload passes. The limits are those of the contract's §4 (slack_sdk's models and Slack's
block reference). Block types the playground does not draw are accepted with the common checks only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
ID_LENGTH = 255
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
LABEL_TEXT = 2000
VIEW_TEXT = 24
PRIVATE_METADATA = 3000
PLACEHOLDER = 150
OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
INPUT_LENGTH = 3000

_STYLES = ("primary", "danger")
_TEXT_TYPES = ("plain_text", "mrkdwn")
# Drawn by the playground and checked in depth; the others below only need a known type.
_OTHER_BLOCKS = {"image", "rich_text", "file", "video", "markdown", "table", "call"}
_OTHER_ELEMENTS = {
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "email_text_input",
    "number_input",
    "url_text_input",
    "rich_text_input",
    "file_input",
    "image",
    "workflow_button",
}

Problems = list[str]


def _at(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def check_text(obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> Problems:
    """A text composition object: a known type, a non-empty string within ``limit`` characters."""
    if not isinstance(obj, dict):
        return [_at("must be a text object", pointer)]
    allowed = ("plain_text",) if plain_only else _TEXT_TYPES
    if obj.get("type") not in allowed:
        return [_at(f"must be one of {', '.join(allowed)}", f"{pointer}/type")]
    text = obj.get("text")
    if not isinstance(text, str):
        return [_at("missing required field: text", pointer)]
    if not text:
        return [_at("must be more than 0 characters", f"{pointer}/text")]
    if len(text) > limit:
        return [_at(f"must be less than {limit + 1} characters", f"{pointer}/text")]
    return []


def _check_id(element: dict[str, Any], key: str, pointer: str) -> Problems:
    value = element.get(key)
    if value is None:
        return []
    if not isinstance(value, str) or not value or len(value) > ID_LENGTH:
        return [_at(f"must be a string of 1 to {ID_LENGTH} characters", f"{pointer}/{key}")]
    return []


def _check_confirm(confirm: Any, pointer: str) -> Problems:
    if not isinstance(confirm, dict):
        return [_at("must be a confirmation dialog object", pointer)]
    problems = check_text(confirm.get("title"), f"{pointer}/title", limit=100, plain_only=True)
    problems += check_text(confirm.get("text"), f"{pointer}/text", limit=300)
    problems += check_text(confirm.get("confirm"), f"{pointer}/confirm", limit=30, plain_only=True)
    problems += check_text(confirm.get("deny"), f"{pointer}/deny", limit=30, plain_only=True)
    if confirm.get("style") not in (None, *_STYLES):
        problems.append(_at("must be primary or danger", f"{pointer}/style"))
    return problems


def _check_button(element: dict[str, Any], pointer: str) -> Problems:
    problems = check_text(element.get("text"), f"{pointer}/text", limit=BUTTON_TEXT, plain_only=True)
    value = element.get("value")
    if value is not None and (not isinstance(value, str) or len(value) > BUTTON_VALUE):
        problems.append(_at(f"must be less than {BUTTON_VALUE + 1} characters", f"{pointer}/value"))
    url = element.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > BUTTON_URL):
        problems.append(_at(f"must be less than {BUTTON_URL + 1} characters", f"{pointer}/url"))
    if element.get("style") not in (None, *_STYLES):
        problems.append(_at("must be primary or danger", f"{pointer}/style"))
    if "confirm" in element:
        problems += _check_confirm(element["confirm"], f"{pointer}/confirm")
    return problems


def _check_option(option: Any, pointer: str) -> Problems:
    if not isinstance(option, dict):
        return [_at("must be an option object", pointer)]
    problems = check_text(option.get("text"), f"{pointer}/text", limit=OPTION_TEXT)
    value = option.get("value")
    if not isinstance(value, str) or not value or len(value) > OPTION_VALUE:
        problems.append(_at(f"must be a string of 1 to {OPTION_VALUE} characters", f"{pointer}/value"))
    return problems


def _check_static_select(element: dict[str, Any], pointer: str) -> Problems:
    problems: Problems = []
    if "placeholder" in element:
        problems += check_text(
            element["placeholder"], f"{pointer}/placeholder", limit=PLACEHOLDER, plain_only=True
        )
    options = element.get("options")
    groups = element.get("option_groups")
    if groups is not None:
        options = [opt for group in groups if isinstance(group, dict) for opt in group.get("options", [])]
    if not isinstance(options, list) or not options:
        return [*problems, _at("must provide options or option_groups", pointer)]
    if len(options) > OPTIONS:
        problems.append(_at(f"must contain at most {OPTIONS} items", f"{pointer}/options"))
    for i, option in enumerate(options):
        problems += _check_option(option, f"{pointer}/options/{i}")
    initial = element.get("initial_option")
    if initial is not None and initial not in options:
        problems.append(_at("must match one of the options", f"{pointer}/initial_option"))
    return problems


def _check_plain_text_input(element: dict[str, Any], pointer: str) -> Problems:
    problems: Problems = []
    if "placeholder" in element:
        problems += check_text(
            element["placeholder"], f"{pointer}/placeholder", limit=PLACEHOLDER, plain_only=True
        )
    max_length = element.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length <= INPUT_LENGTH):
        problems.append(_at(f"must be between 1 and {INPUT_LENGTH}", f"{pointer}/max_length"))
    min_length = element.get("min_length")
    if min_length is not None and (not isinstance(min_length, int) or not 0 <= min_length <= INPUT_LENGTH):
        problems.append(_at(f"must be between 0 and {INPUT_LENGTH}", f"{pointer}/min_length"))
    initial = element.get("initial_value")
    if initial is not None and not isinstance(initial, str):
        problems.append(_at("must be a string", f"{pointer}/initial_value"))
    return problems


_ELEMENT_CHECKS: dict[str, Callable[[dict[str, Any], str], Problems]] = {
    "button": _check_button,
    "static_select": _check_static_select,
    "plain_text_input": _check_plain_text_input,
}


def check_element(element: Any, pointer: str) -> Problems:
    """An interactive element: known type, ``action_id`` within bounds, then its own limits."""
    if not isinstance(element, dict):
        return [_at("must be an element object", pointer)]
    kind = element.get("type")
    check = _ELEMENT_CHECKS.get(str(kind))
    if check is None and kind not in _OTHER_ELEMENTS:
        return [_at(f"unsupported element type {kind!r}", f"{pointer}/type")]
    problems = _check_id(element, "action_id", pointer)
    return problems + (check(element, pointer) if check is not None else [])


def _check_header(block: dict[str, Any], pointer: str) -> Problems:
    return check_text(block.get("text"), f"{pointer}/text", limit=HEADER_TEXT, plain_only=True)


def _check_section(block: dict[str, Any], pointer: str) -> Problems:
    if "text" not in block and "fields" not in block:
        return [_at("must provide text or fields", pointer)]
    problems: Problems = []
    if "text" in block:
        problems += check_text(block["text"], f"{pointer}/text", limit=SECTION_TEXT)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            problems.append(_at("must be a non-empty array", f"{pointer}/fields"))
        else:
            if len(fields) > FIELDS:
                problems.append(_at(f"must contain at most {FIELDS} items", f"{pointer}/fields"))
            for i, item in enumerate(fields):
                problems += check_text(item, f"{pointer}/fields/{i}", limit=FIELD_TEXT)
    if "accessory" in block:
        problems += check_element(block["accessory"], f"{pointer}/accessory")
    return problems


def _check_context(block: dict[str, Any], pointer: str) -> Problems:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_at("must be a non-empty array", f"{pointer}/elements")]
    problems: Problems = []
    if len(elements) > CONTEXT_ELEMENTS:
        problems.append(_at(f"must contain at most {CONTEXT_ELEMENTS} items", f"{pointer}/elements"))
    for i, element in enumerate(elements):
        where = f"{pointer}/elements/{i}"
        if isinstance(element, dict) and element.get("type") == "image":
            continue
        problems += check_text(element, where, limit=SECTION_TEXT)
    return problems


def _check_actions(block: dict[str, Any], pointer: str) -> Problems:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_at("must be a non-empty array", f"{pointer}/elements")]
    problems: Problems = []
    if len(elements) > ACTIONS_ELEMENTS:
        problems.append(_at(f"must contain at most {ACTIONS_ELEMENTS} items", f"{pointer}/elements"))
    seen: set[str] = set()
    for i, element in enumerate(elements):
        where = f"{pointer}/elements/{i}"
        problems += check_element(element, where)
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                problems.append(_at(f"duplicate action_id {action_id!r}", f"{where}/action_id"))
            seen.add(action_id)
    return problems


def _check_input(block: dict[str, Any], pointer: str) -> Problems:
    problems = check_text(block.get("label"), f"{pointer}/label", limit=LABEL_TEXT, plain_only=True)
    if "hint" in block:
        problems += check_text(block["hint"], f"{pointer}/hint", limit=LABEL_TEXT, plain_only=True)
    if "element" not in block:
        return [*problems, _at("missing required field: element", pointer)]
    return problems + check_element(block["element"], f"{pointer}/element")


def _check_divider(block: dict[str, Any], pointer: str) -> Problems:
    return []


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any], str], Problems]] = {
    "header": _check_header,
    "section": _check_section,
    "context": _check_context,
    "actions": _check_actions,
    "input": _check_input,
    "divider": _check_divider,
}


def check_blocks(blocks: Any, *, limit: int = MESSAGE_BLOCKS, pointer: str = "/blocks") -> Problems:
    """A list of blocks: at most ``limit``, unique block ids, each block within its own limits."""
    if not isinstance(blocks, list):
        return [_at("must be an array", pointer)]
    problems: Problems = []
    if len(blocks) > limit:
        problems.append(_at(f"must contain at most {limit} items", pointer))
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(_at("missing required field: type", where))
            continue
        problems += _check_id(block, "block_id", where)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                problems.append(_at(f"duplicate block_id {block_id!r}", f"{where}/block_id"))
            seen.add(block_id)
        check = _BLOCK_CHECKS.get(block["type"])
        if check is not None:
            problems += check(block, where)
        elif block["type"] not in _OTHER_BLOCKS:
            problems.append(_at(f"unsupported block type {block['type']!r}", f"{where}/type"))
    return problems


def check_view(view: Any) -> Problems:
    """A modal or Home view: title, submit, close within 24; blocks within 100; submit when inputs."""
    if not isinstance(view, dict):
        return [_at("must be a view object", "/view")]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_at("must be modal or home", "/view/type")]
    problems: Problems = []
    if kind == "modal":
        problems += check_text(view.get("title"), "/view/title", limit=VIEW_TEXT, plain_only=True)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            problems += check_text(view[key], f"/view/{key}", limit=VIEW_TEXT, plain_only=True)
    metadata = view.get("private_metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > PRIVATE_METADATA):
        problems.append(_at(f"must be less than {PRIVATE_METADATA + 1} characters", "/view/private_metadata"))
    for key in ("callback_id", "external_id"):
        problems += _check_id(view, key, "/view")
    blocks = view.get("blocks", [])
    problems += check_blocks(blocks, limit=VIEW_BLOCKS, pointer="/view/blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if kind == "modal" and has_input and view.get("submit") is None:
        problems.append(_at("must define `submit` to use input blocks", "/view"))
    return problems
