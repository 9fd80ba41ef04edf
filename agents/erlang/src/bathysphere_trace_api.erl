%% The one place that sets and clears trace flags, so the rest of the agent does
%% not care which tracing interface the node has.
%%
%% OTP 27+ has trace sessions (trace:session_create/3): they do not clash with
%% other tracers (dbg, recon, redbug) and vanish with their owner. OTP 25/26 only
%% have erlang:trace/3 with a {tracer, Pid} option, where a process has at most
%% one tracer. A backend is {session, Session} or {classic, TracerPid}.
%% No macros, records or includes: the module must compile from source on the target.
-module(bathysphere_trace_api).

-export([new/1, destroy/1, kind/1]).
-export([trace_process/3, untrace_process/2, untrace_flags/3, untrace_sends/2,
         trace_ports/2, untrace_ports/1, sweep/1]).

%% A backend that sends trace messages to Tracer.
new(Tracer) when is_pid(Tracer) ->
    case has_sessions() of
        true -> {session, trace:session_create(bathysphere, Tracer, [])};
        false -> {classic, Tracer}
    end.

has_sessions() ->
    _ = code:ensure_loaded(trace),
    erlang:function_exported(trace, session_create, 3).

kind({session, _}) -> session;
kind({classic, _}) -> classic.

%% Removes every flag this backend set, on processes and ports.
destroy({session, Session}) ->
    catch trace:session_destroy(Session),
    ok;
destroy({classic, Tracer}) ->
    sweep(Tracer).

%% Turns Flags on for Pid; false when the process is gone (or traced by another tool).
trace_process(Backend, Pid, Flags) ->
    apply_process(Backend, Pid, true, [monotonic_timestamp | Flags]).

%% Turns every flag off (the process leaves our tracing altogether).
untrace_process(Backend, Pid) ->
    apply_process(Backend, Pid, false, all_flags(Backend)).

%% Turns some flags off and keeps the others (e.g. stop listening, keep exploring).
untrace_flags(Backend, Pid, Flags) ->
    apply_process(Backend, Pid, false, Flags).

apply_process({session, Session}, Pid, How, Flags) ->
    ok_count(catch trace:process(Session, Pid, How, Flags));
apply_process({classic, Tracer}, Pid, true, Flags) ->
    ok_count(catch erlang:trace(Pid, true, [{tracer, Tracer} | Flags]));
apply_process({classic, Tracer}, Pid, false, Flags) ->
    %% Only touch a process whose tracer is ours: another tool may trace it.
    case catch erlang:trace_info(Pid, tracer) of
        {tracer, Tracer} -> ok_count(catch erlang:trace(Pid, false, Flags));
        _ -> false
    end.

%% Clears the send flag of Pids without letting their sends flood the tracer
%% meanwhile: clearing a running process's flag waits until it is scheduled out,
%% so send tracing is paused as a whole first (a switch that takes no process
%% lock) and resumed after. On OTP 25/26 the switch is the node's send trace
%% pattern, shared with other tools: it is restored as it was, and their send
%% tracing pauses for the same few milliseconds.
untrace_sends(Backend, Pids) ->
    Saved = pause_sends(Backend),
    try
        [untrace_flags(Backend, P, [send]) || P <- Pids]
    after
        resume_sends(Backend, Saved)
    end,
    ok.

pause_sends({session, Session}) ->
    catch trace:send(Session, false, []),
    true;
pause_sends({classic, _}) ->
    {match_spec, Saved} = erlang:trace_info(send, match_spec),
    catch erlang:trace_pattern(send, false, []),
    Saved.

resume_sends({session, Session}, Saved) ->
    catch trace:send(Session, Saved, []);
resume_sends({classic, _}, Saved) ->
    catch erlang:trace_pattern(send, Saved, []).

ok_count(N) when is_integer(N), N > 0 -> true;
ok_count(_) -> false.

%% Node-wide port events: open, closed, link, unlink (existing and new ports).
trace_ports({session, Session}, Flags) ->
    ok_count(catch trace:port(Session, all, true, [monotonic_timestamp | Flags]));
trace_ports({classic, Tracer}, Flags) ->
    ok_count(catch erlang:trace(ports, true, [{tracer, Tracer}, monotonic_timestamp | Flags])).

untrace_ports({session, Session}) ->
    catch trace:port(Session, all, false, [ports, procs]),
    ok;
untrace_ports({classic, Tracer}) ->
    sweep_ports(Tracer).

all_flags({session, _}) -> [procs, send, set_on_link, ports, monotonic_timestamp];
all_flags({classic, _}) -> [all].

%% Clears flags that point at Tracer (alive or dead) on every process and port.
%% Used when tracing ends, and by the agent's owner after a tracer was killed.
sweep(Tracer) ->
    lists:foreach(
        fun(Pid) ->
            case catch erlang:trace_info(Pid, tracer) of
                {tracer, Tracer} -> catch erlang:trace(Pid, false, [all]);
                _ -> ok
            end
        end,
        erlang:processes()),
    sweep_ports(Tracer).

sweep_ports(Tracer) ->
    Ports = [new_ports | erlang:ports()],
    lists:foreach(
        fun(Port) ->
            case catch erlang:trace_info(Port, tracer) of
                {tracer, Tracer} -> catch erlang:trace(Port, false, [all]);
                _ -> ok
            end
        end,
        Ports),
    ok.
