"""Forms (Flask-WTF): sign-in, passwords, the article editor, accounts, and the GET filters.

Messages follow the GOV.UK Design System's wording ("Enter ...", "Select ..."); every field is rendered
by the one macro in ``templates/_forms.html``, which also builds the linked error summary. A form that
fails validation is shown again with everything the user typed.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes plain (value, label) pairs
    SelectChoice = None

from kb.article_fields import PROSE_FIELDS, limit
from kb.models import Status, UserRole, Visibility
from kb.services.articles import ArticleData
from kb.services.diffs import has_conflict_markers, normalise_newlines
from kb.services.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PasswordMethod

# Numbers from the page (versions, revision numbers) beyond this are not ours: treated as missing, so they
# never reach the database (SQLite cannot hold a 30-digit integer and would raise).
MAX_NUMBER = 2**31 - 1


def parse_number(value: Any) -> int | None:
    """A whole number the user's browser sent back, or None if it is missing, not a number or too big."""
    text = value.strip() if isinstance(value, str) else ""
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None


def _strip(value: Any) -> Any:
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _newlines(value: Any) -> Any:
    # NUL never belongs in text, and some databases (PostgreSQL) refuse to store it.
    return normalise_newlines(value.replace("\x00", "")) if isinstance(value, str) else value


def as_choices(pairs: Any) -> list:
    """(value, label) pairs as the installed WTForms wants its choices (3.3 deprecates plain tuples)."""
    pairs = list(pairs)
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else pairs


def choice_values(field: Field) -> set[str]:
    """The values a select, radio or checkbox field offers."""
    return {choice.value if hasattr(choice, "value") else choice[0] for choice in field.choices or []}


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (one value each), rendered in a fieldset by the field macro."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _password_rules(label: str) -> list:
    return [
        InputRequired(f"Enter {label}"),
        Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            message=f"The password must be at least {MIN_PASSWORD_LENGTH} characters long",
        ),
    ]


# --- Signing in and passwords ---------------------------------------------------------------------


class LoginForm(FlaskForm):
    email = StringField("E-mail address", [InputRequired("Enter your e-mail address")], filters=[_strip])
    password = PasswordField("Password", [InputRequired("Enter your password")])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", [InputRequired("Enter your current password")])
    new_password = PasswordField("New password", _password_rules("a new password"))
    confirm_password = PasswordField(
        "Confirm the new password",
        [
            InputRequired("Enter the new password again"),
            EqualTo("new_password", "The passwords do not match"),
        ],
    )


class SetPasswordForm(FlaskForm):
    new_password = PasswordField("New password", _password_rules("a new password"))
    confirm_password = PasswordField(
        "Confirm the new password",
        [
            InputRequired("Enter the new password again"),
            EqualTo("new_password", "The passwords do not match"),
        ],
    )


class TwoFactorCodeForm(FlaskForm):
    code = StringField(
        "Code",
        [InputRequired("Enter the code"), Length(max=64, message="The code is too long")],
        filters=[_strip],
    )


# --- The article editor ---------------------------------------------------------------------------

STATUS_CHOICES = [
    (Status.DRAFT.value, "Draft"),
    (Status.PUBLISHED.value, "Published"),
    (Status.ARCHIVED.value, "Archived"),
]
STATUS_HINTS = {
    Status.DRAFT.value: "Saved but not shown to readers. On a published article, readers keep seeing the "
    "published text until you publish this draft.",
    Status.PUBLISHED.value: "Shown on the site and in search as soon as you save.",
    Status.ARCHIVED.value: "Retired: hidden from readers and search, kept with its history, can be restored.",
}
VISIBILITY_CHOICES = [(Visibility.PUBLIC.value, "Public"), (Visibility.INTERNAL.value, "Internal")]
VISIBILITY_HINTS = {
    Visibility.PUBLIC.value: "Candidates and everyone else can read it.",
    Visibility.INTERNAL.value: "Only signed-in staff can read it.",
}
TEXT_FIELDS_THAT_MAY_HOLD_MERGES = PROSE_FIELDS


def _limit(name: str, what: str) -> Length:
    """The declared character limit of an article field, with its error message."""
    return Length(max=limit(name), message=f"{what} must be {limit(name):,} characters or fewer")


class ArticleForm(FlaskForm):
    title = StringField(
        "Title",
        [
            InputRequired("Enter a title"),
            _limit("title", "The title"),
        ],
        filters=[_strip],
    )
    acronym = StringField(
        "Acronym (optional)",
        [Optional(), _limit("acronym", "The acronym")],
        filters=[_strip],
    )
    summary = TextAreaField(
        "Summary",
        [
            InputRequired("Enter a summary"),
            _limit("summary", "The summary"),
        ],
        filters=[_strip, _newlines],
    )
    body = TextAreaField(
        "Body",
        [_limit("body", "The body")],
        filters=[_newlines],
    )
    area = SelectField("Area", [InputRequired("Select an area")], validate_choice=False)
    parent = SelectField("Parent capability (optional)", validate_choice=False)
    tags = MultiCheckboxField("Tags", validate_choice=False)
    roles = MultiCheckboxField("Role types", validate_choice=False)
    partners = TextAreaField(
        "Partners (optional)",
        [_limit("partners", "The partners")],
        filters=[_newlines],
    )
    contact_public = TextAreaField(
        "Public contact (optional)",
        [_limit("contact_public", "The public contact")],
        filters=[_newlines],
    )
    contact_internal = TextAreaField(
        "Internal contact (optional, staff only)",
        [_limit("contact_internal", "The internal contact")],
        filters=[_newlines],
    )
    visibility = RadioField(
        "Who can read it", [InputRequired("Select who can read it")], choices=as_choices(VISIBILITY_CHOICES)
    )
    # Not shown on the page: the "Save draft" and "Publish" buttons say what a save does (``status_for``).
    # Still read when posted, for scripts that create or edit articles through the form.
    status = SelectField("Status", [Optional()], choices=as_choices(STATUS_CHOICES), validate_choice=False)
    note = StringField(
        "Change note (optional)",
        [Optional(), Length(max=300, message="The change note must be 300 characters or fewer")],
        filters=[_strip],
    )
    # The version the editor started from (a stale one is a conflict) and the revision it was (merge base).
    version = HiddenField()
    base_revision = HiddenField()
    # On the conflict page only: the editor's own text (JSON) and the revision it started from.
    conflict_mine = HiddenField()
    conflict_base = HiddenField()

    def set_vocabulary(
        self,
        areas: list[tuple[str, str]],
        tags: list[tuple[str, str]],
        roles: list[tuple[str, str]],
        parents: list[tuple[str, str]],
    ) -> None:
        """Offer the current areas, tags, role types and possible parents as choices."""
        self.area.choices = as_choices([("", "Select an area"), *areas])
        self.tags.choices = as_choices(tags)
        self.roles.choices = as_choices(roles)
        self.parent.choices = as_choices([("", "None"), *parents])

    def validate_area(self, field: Field) -> None:
        if not field.data or field.data not in choice_values(field):
            raise ValidationError("Select an area")

    def validate_parent(self, field: Field) -> None:
        if field.data and field.data not in choice_values(field):
            raise ValidationError("Select a parent capability from the list")

    def validate_tags(self, field: Field) -> None:
        if set(field.data or []) - choice_values(field):
            raise ValidationError("Select tags from the list")

    def validate_roles(self, field: Field) -> None:
        if set(field.data or []) - choice_values(field):
            raise ValidationError("Select role types from the list")

    def validate_status(self, field: Field) -> None:
        if field.data and field.data not in choice_values(field):
            raise ValidationError("Select a status from the list")

    def status_for(self, action: str, current: str | None) -> str:
        """The status a save asks for: "Publish" publishes; "Save draft" keeps readers' view unchanged.

        A draft save of an archived article leaves it archived. Without either button (a script), the
        posted ``status`` is used, and a draft is the safe default.
        """
        if action == "publish":
            return Status.PUBLISHED.value
        if action == "draft":
            return Status.ARCHIVED.value if current == Status.ARCHIVED.value else Status.DRAFT.value
        return self.status.data or Status.DRAFT.value

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for name in TEXT_FIELDS_THAT_MAY_HOLD_MERGES:
            field = self[name]
            if field.data and has_conflict_markers(field.data):
                field.errors = [
                    *field.errors,
                    f"{field.label.text.split(' (')[0]} still holds conflict markers: keep the text you want "
                    "and delete the marker lines",
                ]
                valid = False
        return valid

    def within_limits(self) -> bool:
        """Check only the fields' length limits (what a preview needs: an unfinished article may be
        previewed, an oversized one may not, so a preview costs no more than a save)."""
        fits = True
        for field in self:
            for validator in field.validators:
                if not isinstance(validator, Length):
                    continue
                try:
                    validator(self, field)
                except ValidationError as exc:
                    field.errors = [*field.errors, str(exc)]
                    fits = False
        return fits

    @property
    def started_from_version(self) -> int | None:
        """The version the form was loaded from, or None if it is missing or not a number (a conflict)."""
        return parse_number(self.version.data)

    @property
    def started_from_revision(self) -> int | None:
        return parse_number(self.base_revision.data)

    def article_data(self, kind: str, status: str | None = None) -> ArticleData:
        """What the editor typed, as the article service takes it (``status`` from ``status_for``)."""
        return ArticleData(
            title=self.title.data or "",
            summary=self.summary.data or "",
            body=self.body.data or "",
            area=self.area.data or "",
            acronym=self.acronym.data or "",
            kind=kind,
            parent=self.parent.data or None,
            tags=list(self.tags.data or []),
            roles=list(self.roles.data or []),
            partners=[line.strip() for line in (self.partners.data or "").split("\n") if line.strip()],
            contact_public=self.contact_public.data or "",
            contact_internal=self.contact_internal.data or "",
            visibility=self.visibility.data or Visibility.PUBLIC.value,
            status=status or self.status.data or Status.DRAFT.value,
        )

    @staticmethod
    def formdata_with(formdata: Any, values: dict[str, Any]) -> Any:
        """A copy of the posted ``formdata`` with some fields replaced by snapshot ``values``."""
        result = formdata.copy()
        for name, value in ArticleForm.form_data(values).items():
            if name not in values:
                continue
            result.setlist(name, list(value) if isinstance(value, list) else [value or ""])
        return result

    @staticmethod
    def form_data(data: ArticleData | dict[str, Any]) -> dict[str, Any]:
        """Field values for an article (or a revision's snapshot), to fill the form with."""
        values = data if isinstance(data, dict) else data.snapshot()
        result = {k: v for k, v in values.items() if k != "partners"}
        result["partners"] = "\n".join(values.get("partners") or [])
        result["parent"] = values.get("parent") or ""
        return result


class ActionForm(FlaskForm):
    """A button that changes an article (publish, archive, restore, ...): CSRF and the version it saw."""

    version = HiddenField()

    @property
    def started_from_version(self) -> int | None:
        return parse_number(self.version.data)


class StewardshipForm(FlaskForm):
    """Who owns an article and when it is next due for review."""

    owner = SelectField("Owner", validate_choice=False)
    next_review_on = DateField(
        "Next review date", [Optional()], format="%Y-%m-%d", render_kw={"type": "date"}
    )

    def set_owners(self, owners: list[tuple[str, str]]) -> None:
        self.owner.choices = as_choices([("", "Nobody yet"), *owners])

    def validate_owner(self, field: Field) -> None:
        if field.data and field.data not in choice_values(field):
            raise ValidationError("Select an owner from the list")


class FeedbackForm(FlaskForm):
    """ "Was this page helpful?": the button pressed and an optional comment; nothing about the reader."""

    helpful = HiddenField()  # set by the button pressed ("yes" or "no")
    comment = TextAreaField(
        "How could this page be better? (optional)",
        [Optional(), Length(max=500, message="Your comment must be 500 characters or fewer")],
        filters=[_strip, _newlines],
    )

    def validate_helpful(self, field: Field) -> None:
        if field.data not in {"yes", "no"}:
            raise ValidationError("Select yes or no")


class DeleteArticleForm(FlaskForm):
    confirm = StringField("To confirm, type the article's web address name", filters=[_strip])

    def __init__(self, slug: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected_slug = slug

    def validate_confirm(self, field: Field) -> None:
        if field.data != self.expected_slug:
            raise ValidationError(f"Type {self.expected_slug} to confirm that it should be deleted for good")


class EditorFilterForm(FlaskForm):
    """The article list's search and filters: read from the query string, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Search articles", [Optional(), Length(max=200)], filters=[_strip])
    status = MultiCheckboxField("Status", choices=as_choices(STATUS_CHOICES), validate_choice=False)
    visibility = MultiCheckboxField(
        "Visibility", choices=as_choices(VISIBILITY_CHOICES), validate_choice=False
    )
    area = SelectField("Area", validate_choice=False)

    def selected(self, name: str) -> list[str]:
        """The chosen values of a filter that are real choices; anything else typed in the URL is ignored."""
        field = self[name]
        allowed = choice_values(field) - {""}
        values = field.data if isinstance(field.data, list) else [field.data]
        return [v for v in values if v in allowed]


# --- Accounts -------------------------------------------------------------------------------------

ROLE_CHOICES = [
    (UserRole.STAFF.value, "Staff"),
    (UserRole.EDITOR.value, "Editor"),
    (UserRole.ADMIN.value, "Admin"),
]
ROLE_HINTS = {
    UserRole.STAFF.value: "Reads internal articles and contacts.",
    UserRole.EDITOR.value: "Also writes, publishes and retires articles, and rebuilds the search index.",
    UserRole.ADMIN.value: "Also manages accounts and reads the audit log.",
}
METHOD_CHOICES = [
    (PasswordMethod.LINK.value, "A one-time link to choose a password"),
    (PasswordMethod.TEMPORARY.value, "A temporary password, to be changed at first sign-in"),
]


class AccountForm(FlaskForm):
    email = StringField(
        "E-mail address",
        [InputRequired("Enter an e-mail address"), Length(max=254, message="The e-mail address is too long")],
        filters=[_strip],
    )
    role = RadioField("Role", [InputRequired("Select a role")], choices=as_choices(ROLE_CHOICES))
    method = RadioField(
        "How they get their password",
        [InputRequired("Select how they get their password")],
        choices=as_choices(METHOD_CHOICES),
    )


class RoleForm(FlaskForm):
    role = RadioField("Role", [InputRequired("Select a role")], choices=as_choices(ROLE_CHOICES))


class ResetPasswordForm(FlaskForm):
    method = RadioField(
        "How they get their new password",
        [InputRequired("Select how they get their new password")],
        choices=as_choices(METHOD_CHOICES),
    )


class AuditFilterForm(FlaskForm):
    """The audit log's filters, from the query string: action, person and a date range (UTC days)."""

    class Meta:
        csrf = False

    action = SelectField("Action", validate_choice=False)
    person = SelectField("Person", validate_choice=False)
    since = DateField("From", [Optional()], format="%Y-%m-%d", render_kw={"type": "date"})
    until = DateField("To", [Optional()], format="%Y-%m-%d", render_kw={"type": "date"})

    def chosen(self, name: str) -> str:
        """The chosen value of a select filter if it is one of its choices, else ""."""
        field = self[name]
        return field.data if field.data in choice_values(field) else ""

    def day(self, name: str):
        """A date filter's day, or None if it is empty or not a date (a bad one is reported by validate)."""
        field = self[name]
        return field.data if not field.errors else None


GLOSSARY_KIND_HINTS = {
    "acronym": "Letters that stand for something in this unit (CHIS, POCA). Search finds the expansion too.",
    "term": "Slang or everyday words and the words the articles use for the same thing (grass: informant).",
    "best_bet": "A phrase people type (accountant) and the capabilities to show first for it.",
}


def _lines(text: str | None) -> list[str]:
    """One item per line or comma, blanks dropped."""
    return [item.strip() for item in (text or "").replace("\n", ",").split(",") if item.strip()]


class GlossaryForm(FlaskForm):
    """An entry of the search vocabulary: an acronym, a term or slang word, or a best bet."""

    term = StringField("Term", filters=[_strip], validators=[InputRequired("Enter the term"), Length(max=80)])
    kind = RadioField(
        "Kind of entry",
        choices=as_choices([("acronym", "Acronym"), ("term", "Term or slang"), ("best_bet", "Best bet")]),
        validators=[InputRequired("Choose what kind of entry this is")],
    )
    expansion = StringField("What the acronym stands for", filters=[_strip], validators=[Length(max=200)])
    aliases = TextAreaField("Words and phrases that mean the same", filters=[_strip])
    targets = StringField("Capabilities to put first (web address names, in order)", filters=[_strip])
    definition = TextAreaField("Definition (shown in the public glossary)", filters=[_strip])

    @property
    def alias_list(self) -> list[str]:
        return _lines(self.aliases.data)

    @property
    def target_list(self) -> list[str]:
        return _lines(self.targets.data)


class GlossaryFilterForm(FlaskForm):
    """The glossary list's search box and kind filter (GET, so no CSRF)."""

    class Meta:
        csrf = False

    q = StringField("Search the glossary", filters=[_strip])
    kind = SelectField(
        "Kind",
        choices=as_choices(
            [
                ("", "All kinds"),
                ("acronym", "Acronyms"),
                ("term", "Terms and slang"),
                ("best_bet", "Best bets"),
            ]
        ),
    )
