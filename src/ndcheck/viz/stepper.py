"""An interactive stepper: walk the product graph one enabled action at a time.

:class:`Stepper` works without any widget library: ``enabled()`` lists the actions enabled in the
current state (from the explored graph's edges, so only explored behaviour is offered),
``step(i)`` takes one (by position, exact name or a unique part of the name), ``back()`` undoes,
``trace()`` returns the walk as a replayed :class:`~ndcheck.traces.trace.Trace` and
``chart()`` draws it.  :meth:`Stepper.widget` wraps the same object in ipywidgets (a dropdown of
enabled actions, Step / Back / Reset buttons and the redrawn sequence chart); it returns None when
ipywidgets is not installed, and needs a live frontend only to be clicked.

>>> from ndcheck import CATALOG, build_system, explore
>>> st = Stepper(explore(build_system(CATALOG["fig8-silent-peer"])))
>>> st.step("ike_i.acquire_mm@idle").startswith("client.tcp.send_syn")
True
>>> len(st.trace().steps)
1
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Choice", "Stepper"]


@dataclass(frozen=True, slots=True, repr=False)
class Choice:
    """One enabled action of the current state."""

    position: int          # index in enabled()
    command: int           # index in system.commands
    action: str            # command name
    wire: tuple[str, ...]  # packets it puts on the wire
    target: int            # successor state id in the graph

    def __str__(self) -> str:
        return f"[{self.position}] {self.action}" + (f"  => {'; '.join(self.wire)}" if self.wire else "")

    __repr__ = __str__


class Stepper:
    """Walk an explored graph (:class:`~ndcheck.Graph`) from its initial state."""

    def __init__(self, graph):
        self.graph = graph
        self.system = graph.system
        self.reset()

    # -- walking --------------------------------------------------------------------------
    def reset(self) -> None:
        self.path: list[tuple[int, int]] = []   # (command, state id) per step
        self.sid = 0

    def enabled(self) -> list[Choice]:
        """The actions enabled in the current state, in command order."""
        out = sorted(self.graph.successors_of(self.sid))
        cmds = self.system.commands
        return [Choice(i, a, cmds[a].name, tuple(p.wire() for p in cmds[a].wire), v)
                for i, (a, v) in enumerate(out)]

    def _pick(self, choice: int | str) -> Choice:
        en = self.enabled()
        if not en:
            raise ValueError("no action is enabled: the current state is terminal")
        if isinstance(choice, int):
            if not 0 <= choice < len(en):
                raise IndexError(f"choose 0..{len(en) - 1}; enabled: "
                                 + "; ".join(c.action for c in en))
            return en[choice]
        exact = [c for c in en if c.action == choice]
        if exact:
            return exact[0]
        part = [c for c in en if choice in c.action]
        if len(part) == 1:
            return part[0]
        what = "matches several" if part else "matches none"
        raise ValueError(f"{choice!r} {what} of the enabled actions: "
                         + "; ".join(c.action for c in (part or en)))

    def step(self, choice: int | str = 0) -> str:
        """Take one enabled action; returns its name."""
        c = self._pick(choice)
        self.path.append((c.command, c.target))
        self.sid = c.target
        return c.action

    def back(self) -> None:
        """Undo the last step (no-op at the initial state)."""
        if self.path:
            self.path.pop()
            self.sid = self.path[-1][1] if self.path else 0

    @property
    def commands(self) -> list[int]:
        return [a for a, _ in self.path]

    # -- looking --------------------------------------------------------------------------
    def state(self, everything: bool = False) -> dict[str, str]:
        """The current state: control states and set flags/counters (all fields with
        ``everything``)."""
        d = self.system.describe(self.graph.states[self.sid])
        if everything:
            return d
        return {k: v for k, v in d.items()
                if self.system.field(k).kind == "control" or v not in ("0", "-")}

    def trace(self):
        """The walk so far as a trace, replayed through the IR and the machine instances."""
        from ..traces.trace import trace_from_commands

        return trace_from_commands(self.system, self.commands, None, "witness")

    def chart(self, prefer: str = "svg"):
        """The walk so far as a sequence chart (SVG when available, else matplotlib)."""
        from .sequence import show_trace

        return show_trace(self.trace(), self.system, prefer=prefer)

    def __repr__(self) -> str:
        en = self.enabled()
        return (f"Stepper({self.system.name}: {len(self.path)} steps, state {self.sid}, "
                f"{len(en)} enabled)")

    # -- widget ---------------------------------------------------------------------------
    def widget(self, prefer: str = "svg"):
        """An ipywidgets UI over this stepper, or None if ipywidgets is not installed."""
        try:
            import ipywidgets as w
        except ImportError:
            return None
        from IPython.display import display

        pick = w.Dropdown(description="action", layout=w.Layout(width="95%"))
        step_b, back_b, reset_b = w.Button(description="Step"), w.Button(description="Back"), \
            w.Button(description="Reset")
        info = w.HTML()
        out = w.Output()

        def refresh(*_):
            en = self.enabled()
            pick.options = [(str(c), c.position) for c in en]
            pick.value = en[0].position if en else None
            step_b.disabled = not en
            info.value = (f"<b>{len(self.path)} steps</b>; state: "
                          + ", ".join(f"{k}={v}" for k, v in self.state().items()))
            out.clear_output(wait=True)
            if self.path:
                with out:
                    display(self.chart(prefer))

        def on_step(_):
            if pick.value is not None:
                self.step(pick.value)
            refresh()

        def on_back(_):
            self.back()
            refresh()

        def on_reset(_):
            self.reset()
            refresh()

        step_b.on_click(on_step)
        back_b.on_click(on_back)
        reset_b.on_click(on_reset)
        refresh()
        return w.VBox([w.HBox([step_b, back_b, reset_b]), pick, info, out])
