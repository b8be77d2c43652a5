"""`talkapp history …`, `talkapp spend …`, and what `say`/`talk` do with the history.

    talkapp history [--json] [--limit N] [--search TEXT]
    talkapp history show ID [--json]
    talkapp history export ID --format md|json [--out FILE]
    talkapp history delete ID
    talkapp spend [--json] [--budget USD|none]
    say/talk: --continue ID, --no-history, --over-budget

Every failure raises `HistoryError` (one line; the CLI prints it and exits 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from talkapp.compare.prices import PriceTable, load_prices
from talkapp.history import export, spend
from talkapp.history.context import Context, context_for
from talkapp.history.recorder import HistoryRecorder, turn_cost
from talkapp.history.store import HistoryError, HistoryStore, SessionInfo, default_path
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.store import SettingsStore

RAISE_BUDGET = (
    "raise it with `talkapp spend --budget USD` (or `--budget none`), "
    "or add --over-budget to run this one session anyway"
)


def add_parsers(commands) -> None:
    history = commands.add_parser(
        "history",
        help="list, search, show, export or delete saved conversations",
        description=f"Conversations are kept in {default_path()} "
        "(TALKAPP_DATA_DIR overrides the folder).",
    )
    history.add_argument(
        "--json", action="store_true", help="one JSON object with a `conversations` list"
    )
    history.add_argument(
        "--limit", type=_positive, default=None, help="at most N conversations, newest first"
    )
    history.add_argument(
        "--search", default=None, metavar="TEXT", help="only conversations whose words match TEXT"
    )
    history.set_defaults(run=_run_list)
    actions = history.add_subparsers(title="actions", metavar="ACTION")
    show = actions.add_parser("show", help="the turns of one conversation")
    show.add_argument("id", type=_conversation_id, metavar="ID")
    show.add_argument("--json", action="store_true", help="one JSON object with the turns")
    show.set_defaults(run=_run_show)
    exporting = actions.add_parser("export", help="write one conversation as Markdown or JSON")
    exporting.add_argument("id", type=_conversation_id, metavar="ID")
    exporting.add_argument("--format", choices=("md", "json"), default="md")
    exporting.add_argument(
        "--out", metavar="FILE", default=None, help="write here instead of stdout"
    )
    exporting.set_defaults(run=_run_export)
    delete = actions.add_parser("delete", help="delete one conversation (and its audio files)")
    delete.add_argument("id", type=_conversation_id, metavar="ID", nargs="?")
    delete.add_argument("--all", action="store_true", help="delete every conversation")
    delete.set_defaults(run=_run_delete)
    rename = actions.add_parser("rename", help="give a conversation another title")
    rename.add_argument("id", type=_conversation_id, metavar="ID")
    rename.add_argument("title", metavar="TITLE")
    rename.set_defaults(run=_run_rename)
    keep = actions.add_parser("keep", help="how long conversations are kept (default forever)")
    keep.add_argument(
        "days",
        metavar="DAYS|forever",
        type=_days,
        help="delete conversations older than DAYS now and at each start; forever: keep all",
    )
    keep.set_defaults(run=_run_keep)

    spending = commands.add_parser(
        "spend", help="what conversations cost today and this month; the monthly budget"
    )
    spending.add_argument(
        "--json", action="store_true", help="one JSON object: month, today, by_model"
    )
    spending.add_argument(
        "--budget",
        metavar="USD|none",
        default=None,
        help="set the monthly budget in US dollars (none clears it); new paid sessions are "
        "refused once this month's spend reaches it",
    )
    spending.set_defaults(run=_run_spend)


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """`say` and `talk`: which conversation the turns go to, and the budget override."""
    parser.add_argument(
        "--continue",
        dest="continue_id",
        type=_conversation_id,
        default=None,
        metavar="ID",
        help="continue conversation ID (see `talkapp history`): its turns are sent as context "
        "and the new ones added to it",
    )
    parser.add_argument("--no-history", action="store_true", help="do not save this conversation")
    parser.add_argument(
        "--over-budget",
        action="store_true",
        help="run this one paid session even though the monthly budget is reached",
    )


# ---- say / talk ----


@dataclass
class SessionHistory:
    """The history side of one `say` or `talk` run."""

    store: HistoryStore | None  # None: --no-history
    info: SessionInfo
    prices: PriceTable
    conversation_id: int | None = None
    context: Context = field(default_factory=lambda: Context((), 0))
    audio_path: str | None = None  # --record: the session's recording folder
    saved: bool = True  # False once a turn could not be written

    @property
    def paid(self) -> bool:
        return self.info.provider != "simulator"

    def record_turn(
        self,
        user_text: str,
        assistant_text: str,
        usage,
        first_audio_ms: float | None,
        started_at: float,
    ) -> float | None:
        """`say`'s whole turn: both sides, committed; returns the reply's cost."""
        cost = turn_cost(self.prices, self.info, usage)
        if self.store is None:
            return cost
        try:
            self._record(user_text, assistant_text, usage, first_audio_ms, started_at, cost)
        except HistoryError as exc:
            # The reply was received: it is still printed and written; only saving failed.
            print(f"[warning] {exc} This turn was not saved.", file=sys.stderr)
            self.saved = False
        return cost

    def _record(
        self,
        user_text: str,
        assistant_text: str,
        usage,
        first_audio_ms: float | None,
        started_at: float,
        cost: float | None,
    ) -> None:
        assert self.store is not None
        if self.conversation_id is None:
            self.conversation_id = self.store.start_conversation(self.info, at=started_at)
        self.store.add_turn(
            self.conversation_id,
            "user",
            user_text,
            at=started_at,
            info=self.info,
            paid=self.paid,
            audio_path=self.audio_path,
            cost_usd=0.0 if not self.paid else None,
        )
        usage_dict = dataclasses.asdict(usage) if usage is not None else None
        self.store.add_turn(
            self.conversation_id,
            "assistant",
            assistant_text,
            info=self.info,
            paid=self.paid,
            audio_path=self.audio_path,
            first_audio_ms=first_audio_ms,
            usage=usage_dict,
            cost_usd=cost,
        )

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def before_session(
    args: argparse.Namespace, profile: ProviderProfile, simulator: bool
) -> SessionHistory:
    """Open the history, load the conversation to continue, and refuse a paid session at 100 %
    of the monthly budget (before anything is dialed). Notes go to stderr."""
    if args.no_history and args.continue_id is not None:
        raise HistoryError(
            "--continue and --no-history do not go together: continuing adds to a saved "
            "conversation."
        )
    settings = SettingsStore().load().settings
    prices, problems = load_prices(SettingsStore().folder / "prices.json")
    for problem in problems:
        print(f"note: {problem}", file=sys.stderr)
    info = SessionInfo(
        profile=profile.name,
        provider="simulator" if simulator else profile.provider,
        model=profile.model,
        dialect=profile.choice().dialect.name,
    )
    budget = settings.history.monthly_budget_usd
    keeps = not args.no_history and settings.history.enabled
    checks_budget = budget is not None and not simulator and not args.over_budget
    if args.continue_id is not None and not keeps:
        raise HistoryError(
            "--continue needs the conversation history, which is off in the settings "
            '("history": {"enabled": false} in settings.json).'
        )
    store = HistoryStore() if keeps or checks_budget else None
    if store is not None:
        try:
            store.open()
        except HistoryError as exc:
            if args.continue_id is not None or checks_budget:
                raise  # what to continue, or what was spent, cannot be known without it
            print(f"[warning] {exc} This conversation is not being saved.", file=sys.stderr)
            store = None
    for notice in store.notices if store is not None else ():
        print(f"[warning] {notice}", file=sys.stderr)
    plan = SessionHistory(store if keeps else None, info, prices)
    if store is not None and checks_budget:
        state = budget_state(store, budget)
        line = spend.refusal(state, RAISE_BUDGET)
        if line:
            store.close()
            raise HistoryError(line)
        if state.warn:
            print(f"[warning] {state.banner()}", file=sys.stderr)
    if args.continue_id is not None and plan.store is not None:
        conversation = plan.store.conversation(args.continue_id)
        plan.conversation_id = args.continue_id
        plan.context = context_for(conversation)
        if plan.context.note():
            print(plan.context.note(), file=sys.stderr)
    if store is not None and plan.store is None:
        store.close()
    return plan


def recording_emit(plan: SessionHistory, show):
    """`talk`: the engine's events go to `show` (the terminal) and, unless --no-history, to a
    recorder that commits each finished turn (on the engine's loop: each write is one short
    WAL transaction)."""
    if plan.store is None:
        return show
    recorder = HistoryRecorder(
        plan.store,
        plan.info,
        plan.prices,
        plan.conversation_id,
        problem=lambda text: print(f"[warning] {text}", file=sys.stderr),
    )

    def saved(conversation_id: int) -> None:
        if plan.conversation_id is None:
            print(
                f"Saving as conversation {conversation_id} (talkapp history show "
                f"{conversation_id})",
                file=sys.stderr,
            )
        plan.conversation_id = conversation_id

    recorder.on_turn = saved

    def emit(event) -> None:
        show(event)
        recorder.on_event(event)

    return emit


def budget_state(store: HistoryStore, budget: float | None) -> spend.BudgetState:
    now = spend.local_now()
    month = spend.spend(store.costs_since(spend.month_start(now).timestamp()), now).month
    return spend.BudgetState(budget, month.cost_usd)


# ---- history ----


def _run_list(args: argparse.Namespace) -> int:
    with HistoryStore() as store:
        _notices(store)
        rows = store.conversations(limit=args.limit, search=args.search)
    if args.json:
        print(
            json.dumps(
                {"conversations": [export.summary_as_dict(r) for r in rows]}, ensure_ascii=False
            )
        )
    elif not rows:
        print("No conversations match." if args.search else "No conversations yet.")
    else:
        print("\n".join(export.summary_lines(rows)))
    return 0


def _run_show(args: argparse.Namespace) -> int:
    with HistoryStore() as store:
        _notices(store)
        conversation = store.conversation(args.id)
    print(
        json.dumps(export.as_dict(conversation), ensure_ascii=False)
        if args.json
        else export.as_markdown(conversation)
    )
    return 0


def _run_export(args: argparse.Namespace) -> int:
    with HistoryStore() as store:
        _notices(store)
        conversation = store.conversation(args.id)
    text = (
        export.as_markdown(conversation)
        if args.format == "md"
        else json.dumps(export.as_dict(conversation), ensure_ascii=False, indent=2)
    )
    if args.out is None:
        print(text)
        return 0
    try:
        Path(args.out).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    except OSError as exc:
        raise HistoryError(
            f"Cannot write {args.out}: {exc.strerror or exc}; nothing else was changed."
        ) from None
    print(f"Conversation {args.id} written to {args.out}", file=sys.stderr)
    return 0


def _run_delete(args: argparse.Namespace) -> int:
    if (args.id is None) == (not args.all):
        raise HistoryError(
            "Name one conversation to delete (an ID from `talkapp history`), or --all."
        )
    with HistoryStore() as store:
        _notices(store)
        if args.all:
            count = len(store.conversations())
            audio = store.delete_before(float("inf"))
        else:
            audio = store.delete(args.id)
    removed = export.remove_files(audio)
    what = f"all {count} conversations" if args.all else f"conversation {args.id}"
    print(f"Deleted {what}" + (f" and {removed} audio recordings" if removed else "") + ".")
    return 0


def _run_rename(args: argparse.Namespace) -> int:
    if not args.title.strip():
        raise HistoryError("Give the conversation a title that is not empty.")
    with HistoryStore() as store:
        _notices(store)
        store.rename(args.id, args.title)
    print(f"Conversation {args.id} is now “{args.title.strip()}”.")
    return 0


def _run_keep(args: argparse.Namespace) -> int:
    """Retention: stored in the settings (the app applies it at each start) and applied now."""
    settings_store = SettingsStore()
    loaded = settings_store.load()
    history = dataclasses.replace(loaded.settings.history, keep_days=args.days)
    try:
        settings_store.save(dataclasses.replace(loaded.settings, history=history))
    except OSError as exc:
        raise HistoryError(
            f"The setting could not be saved to {settings_store.path} ({exc.strerror or exc})."
        ) from None
    if args.days is None:
        print("Conversations are kept until you delete them.")
        return 0
    with HistoryStore() as store:
        _notices(store)
        before = len(store.conversations())
        audio = store.delete_before(time.time() - args.days * 86400)
        deleted = before - len(store.conversations())
    export.remove_files(audio)
    print(f"Conversations are kept {args.days} days; {deleted} older ones were deleted.")
    return 0


# ---- spend ----


def _run_spend(args: argparse.Namespace) -> int:
    settings_store = SettingsStore()
    loaded = settings_store.load()
    budget = loaded.settings.history.monthly_budget_usd
    if args.budget is not None:
        try:
            budget = spend.parse_budget(args.budget)
        except ValueError as exc:
            raise HistoryError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
        history = dataclasses.replace(loaded.settings.history, monthly_budget_usd=budget)
        try:
            settings_store.save(dataclasses.replace(loaded.settings, history=history))
        except OSError as exc:
            raise HistoryError(
                f"The budget could not be saved to {settings_store.path} ({exc.strerror or exc})."
            ) from None
    with HistoryStore() as store:
        _notices(store)
        now = spend.local_now()
        totals = spend.spend(store.costs_since(spend.month_start(now).timestamp()), now)
    print(json.dumps(spend.as_dict(totals, budget)) if args.json else spend.as_text(totals, budget))
    return 0


# ---- helpers ----


def _notices(store: HistoryStore) -> None:
    for notice in store.notices:
        print(f"[warning] {notice}", file=sys.stderr)


def _conversation_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a conversation id (a number from `talkapp history`)"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a conversation id (a number from `talkapp history`)"
        )
    return value


def _days(text: str) -> int | None:
    if text.strip().lower() == "forever":
        return None
    return _positive(text)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 or more")
    return value
