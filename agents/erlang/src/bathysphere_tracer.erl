%% The tracer: one process per tracing session, started by the agent's owner
%% (so it dies with the client). It receives every trace message, turns them into
%% events, keeps the bounds (bathysphere_limits), and ships events to the client's
%% mailbox in batches: {bathysphere_trace, Self, Seq, Events, DroppedTotal}.
%%
%% Bounds, checked as it goes: its own message queue (every 64 trace messages),
%% events per second, its memory, the session's duration. When one trips, the
%% noisiest level goes off first (listened, then explored, then ports) and an
%% overload event says why and who was loudest. When the client cannot keep up
%% (the distribution buffer is busy), batches wait in a bounded outbox; beyond it
%% they are dropped and counted. Tracing ends, and every flag it set is cleared,
%% when the client's mailbox goes away, the owner stops it, or it is told to.
%%
%% Switching a level off must not let a flood outrun the bound. Clearing a running
%% process's flags waits until that process is scheduled out, and on a busy node that
%% took up to 100 ms while its events kept arriving at a million a second. So a helper
%% (the muter) clears them while the tracer drains what arrives late at the cost of a
%% counter each: sends fold into summaries, lifecycle events of a level switched off
%% are counted as dropped. For the listened level the muter first pauses send tracing
%% as a whole (one switch, no per-process lock), then clears the flags and resumes.
-module(bathysphere_tracer).

-export([init/2, call/2, call/3]).
-export([emit/2, mention/2]).


%% Sends a command to the tracer and waits for its answer.
call(Tracer, Command) -> call(Tracer, Command, 5000).

call(Tracer, Command, Timeout) when is_pid(Tracer) ->
    Monitor = erlang:monitor(process, Tracer),
    Tracer ! {bathysphere_call, self(), Monitor, Command},
    receive
        {Monitor, Reply} ->
            erlang:demonitor(Monitor, [flush]),
            Reply;
        {'DOWN', Monitor, process, Tracer, Reason} ->
            {error, {tracer_down, Reason}}
    after Timeout ->
        erlang:demonitor(Monitor, [flush]),
        {error, timeout}
    end.

init(Client, Options) ->
    process_flag(trap_exit, true),
    %% A flood of trace messages must not be copied into the heap on every GC.
    process_flag(message_queue_data, off_heap),
    %% A flooding process at normal priority must not starve the one process that
    %% can notice the flood and switch its tracing off. (Measured: normal priority
    %% while the queue is short did not make workloads measurably faster.)
    process_flag(priority, high),
    ClientMonitor = erlang:monitor(process, Client),
    Limits = bathysphere_limits:merge(bathysphere_limits:defaults(), Options),
    Backend = bathysphere_trace_api:new(self()),
    Now = now_ms(),
    S0 = #{client => Client, client_monitor => ClientMonitor, backend => Backend,
           limits => Limits, clock => bathysphere_event:clock(),
           roots => #{}, island => #{}, boundary => #{}, listened => #{}, excluded => #{},
           mentioned => #{}, facts_pending => #{}, dirty => false,
           batch => [], batch_n => 0, outbox => queue:new(), outbox_n => 0, seq => 0,
           dropped => 0, recorded => 0, summarised => 0, outside => 0, overloads => 0,
           ports_traced => false, expired => false, watcher => undefined,
           window_start => 0, deadline => Now + maps:get(max_duration_ms, Limits),
           last_window => Now, last_reconcile => Now, last_alive => Now,
           tripped_at => Now - 10000, muter => undefined, muting => sends},
    S1 = emit({started, bathysphere_event:now_us(), self(), none,
               #{backend => bathysphere_trace_api:kind(Backend), limits => Limits,
                 otp_release => list_to_binary(erlang:system_info(otp_release))}}, S0),
    S2 = maybe_trace_ports(S1),
    Watcher = spawn_link(bathysphere_watch, init, [self(), Limits]),
    schedule_tick(S2),
    put(since_queue_check, 0),
    put(started_ms, Now),
    loop(S2#{watcher := Watcher}).

maybe_trace_ports(S) ->
    case maps:get(trace_ports, maps:get(limits, S)) of
        true ->
            Traced = bathysphere_trace_api:trace_ports(maps:get(backend, S), [ports, procs]),
            S#{ports_traced := Traced};
        false ->
            S
    end.

schedule_tick(S) ->
    erlang:send_after(maps:get(batch_interval_ms, maps:get(limits, S)), self(), tick).

loop(#{muter := undefined} = S) ->
    receive
        Msg -> loop(handle(Msg, S))
    end;
loop(S) ->
    receive
        Msg ->
            case count_if_late(Msg, maps:get(muting, S)) of
                true -> loop(S);
                false -> loop(handle(Msg, S))
            end
    end.

%% While the muter works: a send, or (muting all) any event of a process, costs a counter.
count_if_late({trace_ts, Pid, Tag, _Msg, To, _Ts}, _)
  when Tag =:= send; Tag =:= send_to_non_existing_process ->
    bathysphere_limits:count_late_send(Pid, Tag, To),
    true;
count_if_late(Trace, all) when element(1, Trace) =:= trace_ts, is_pid(element(2, Trace)) ->
    bathysphere_limits:count_late_event(),
    true;
count_if_late(_, _) ->
    false.

%% The muter is done: what is still queued from before it finished is late too. The
%% other messages among them are handled as they come, in order.
drain_late(0, S) ->
    S;
drain_late(N, S) ->
    receive
        Msg ->
            case count_if_late(Msg, maps:get(muting, S)) of
                true -> drain_late(N - 1, S);
                false -> drain_late(N - 1, handle(Msg, S))
            end
    after 0 ->
        S
    end.

handle(Trace, S) when element(1, Trace) =:= trace_ts ->
    trace_message(Trace, check_queue(S));
handle(tick, S) ->
    schedule_tick(S),
    on_tick(S);
handle({bathysphere_watch, Events}, S) ->
    lists:foldl(fun emit/2, S, Events);
handle({bathysphere_call, From, Tag, Command}, S) ->
    {Reply, S1} = command(Command, S),
    From ! {Tag, Reply},
    S1;
handle({'DOWN', Monitor, process, _, _}, #{client_monitor := Monitor} = S) ->
    finish(client_down, S);
handle({'EXIT', Watcher, _}, #{watcher := Watcher} = S) ->
    S#{watcher := undefined};
handle({'DOWN', _, process, Muter, _}, #{muter := Muter} = S) ->
    {message_queue_len, Queued} = erlang:process_info(self(), message_queue_len),
    S1 = drain_late(Queued, S),
    LateSends = bathysphere_limits:fold_late_sends(bathysphere_event:now_us()),
    LateEvents = bathysphere_limits:take_late_events(),
    S1#{muter := undefined, summarised := maps:get(summarised, S1) + LateSends,
        dropped := maps:get(dropped, S1) + LateEvents};
handle({'EXIT', _Owner, Reason}, S) ->
    %% The owner stops us (client gone) or crashed: leave the node as it was.
    finish(Reason, S);
handle(_Other, S) ->
    S.

%% ------------------------------------------------------------------ events

trace_message(Trace, S) ->
    case bathysphere_event:from_trace(Trace, maps:get(clock, S), maps:get(limits, S)) of
        ignore -> S;
        Event -> admit(Event, S)
    end.

admit({_, _, Subject, _, _} = Event, S) ->
    case is_pid(Subject) andalso not maps:is_key(Subject, maps:get(island, S)) of
        false ->
            record(Event, S);
        true ->
            case bathysphere_island:admit(Subject, S) of
                {true, S1} -> record(Event, S1);
                {false, S1} -> S1#{outside := maps:get(outside, S1) + 1}
            end
    end.

%% Keeps the island up to date, then records the event or adds it to a summary.
record({Kind, T, Subject, Other, Detail} = Event, S) ->
    S1 = follow_island(Kind, Subject, Other, S),
    Limits = maps:get(limits, S1),
    IsSend = Kind =:= send orelse Kind =:= send_to_dead,
    %% Events of this window so far, node-wide, this one included.
    Total = maps:get(recorded, S1) + maps:get(summarised, S1) - maps:get(window_start, S1) + 1,
    case bathysphere_limits:admit(Subject, Total, Limits) of
        true when IsSend ->
            emit(bathysphere_event:with_text(Event, Limits), S1);
        true ->
            emit(Event, S1);
        false when IsSend ->
            {Bytes, _} = Detail,
            bathysphere_limits:summarise(Subject, Kind, Bytes, Other, T),
            S1#{summarised := maps:get(summarised, S1) + 1};
        false ->
            %% Lifecycle events are never summarised: too many of them is an overload.
            S2 = emit(Event, S1),
            trip(events_per_second, Total, S2)
    end.

follow_island(spawn, _, Child, S) -> bathysphere_island:on_link(Child, true, S);
follow_island(link, _, Other, S) -> bathysphere_island:on_link(Other, true, S);
follow_island(getting_linked, _, Other, S) -> bathysphere_island:on_link(Other, false, S);
follow_island(unlink, _, _, S) -> S#{dirty := true};
follow_island(exit, Pid, _, S) -> bathysphere_island:on_exit(Pid, S);
follow_island(_, _, _, S) -> S.

%% Adds an event to the current batch; a full batch goes out at once. The state
%% has at most 32 keys, so it stays a flat map and this update is one copy.
emit(Event, #{batch := Batch, batch_n := N0, recorded := Recorded} = S) ->
    N = N0 + 1,
    S1 = S#{batch := [Event | Batch], batch_n := N, recorded := Recorded + 1},
    case N >= maps:get(batch_events, maps:get(limits, S)) of
        true -> flush(S1);
        false -> S1
    end.

%% Remembers a process the session has heard of, to report when it dies.
mention(Pid, S) when is_pid(Pid) ->
    Mentioned = maps:get(mentioned, S),
    case map_size(Mentioned) < maps:get(max_mentioned, maps:get(limits, S)) of
        true -> S#{mentioned := Mentioned#{Pid => true}};
        false -> S
    end;
mention(_, S) ->
    S.

%% ------------------------------------------------------------------ shipping

%% The outbox is a queue of {Seq, Events, N}, oldest first.
flush(#{batch_n := 0} = S) ->
    bound_outbox(send_outbox(S));
flush(#{batch := Batch, batch_n := N, seq := Seq0, outbox := Outbox, outbox_n := Waiting} = S) ->
    Seq = Seq0 + 1,
    S1 = S#{batch := [], batch_n := 0, seq := Seq,
            outbox := queue:in({Seq, lists:reverse(Batch), N}, Outbox), outbox_n := Waiting + N},
    bound_outbox(send_outbox(S1)).

%% Oldest first; stops at the first batch the distribution buffer cannot take.
send_outbox(#{outbox := Outbox} = S) ->
    case queue:peek(Outbox) of
        empty ->
            S;
        {value, {Seq, Events, N}} ->
            Message = {bathysphere_trace, self(), Seq, Events, maps:get(dropped, S)},
            case erlang:send(maps:get(client, S), Message, [nosuspend]) of
                ok -> send_outbox(S#{outbox := queue:drop(Outbox),
                                     outbox_n := maps:get(outbox_n, S) - N});
                _Busy -> S
            end
    end.

%% Beyond max_buffered_events the oldest batches go, counted as dropped.
bound_outbox(#{outbox_n := Waiting} = S) ->
    case Waiting > maps:get(max_buffered_events, maps:get(limits, S)) of
        true ->
            {{value, {_, _, N}}, Rest} = queue:out(maps:get(outbox, S)),
            bound_outbox(S#{outbox := Rest, outbox_n := Waiting - N,
                            dropped := maps:get(dropped, S) + N});
        false ->
            S
    end.

%% ------------------------------------------------------------------ bounds

check_queue(S) ->
    case get(since_queue_check) of
        N when N < 64 ->
            put(since_queue_check, N + 1),
            S;
        _ ->
            put(since_queue_check, 0),
            {message_queue_len, Len} = erlang:process_info(self(), message_queue_len),
            Max = maps:get(max_queue, maps:get(limits, S)),
            %% Act at a quarter of the bound: a flood keeps the queue growing while
            %% we switch tracing off and drain what already arrived.
            case Len > Max div 4 of
                true -> trip(queue_length, Len, S);
                false -> S
            end
    end.

%% Switches the noisiest level off, at most once a second, and says so.
trip(Reason, Value, S) ->
    Now = now_ms(),
    case Now - maps:get(tripped_at, S) < 1000 of
        true ->
            S;
        false ->
            Offenders = bathysphere_limits:top_offenders(5),
            {Level, S1} = switch_off_noisiest(S),
            Detail = #{reason => Reason, value => Value, switched_off => Level,
                       offenders => Offenders},
            S2 = emit({overload, bathysphere_event:now_us(), none, none, Detail}, S1),
            flush(S2#{tripped_at := Now, overloads := maps:get(overloads, S2) + 1})
    end.

switch_off_noisiest(S) ->
    Backend = maps:get(backend, S),
    Listened = maps:keys(maps:get(listened, S)),
    Island = maps:keys(maps:get(island, S)),
    if
        Listened =/= [] ->
            %% Children inherit the send flag (set_on_link): the whole island loses it.
            Senders = Listened ++ Island,
            {listened, start_muter(sends, Senders, S#{listened := #{}})};
        Island =/= [] ->
            S1 = lists:foldl(fun mention/2, S, Island),
            S2 = S1#{island := #{}, roots := #{}, facts_pending := #{}},
            {explored, start_muter(all, Island, S2)};
        true ->
            case maps:get(ports_traced, S) of
                true ->
                    bathysphere_trace_api:untrace_ports(Backend),
                    {ports, S#{ports_traced := false}};
                false ->
                    {none, S}
            end
    end.

%% Clears the send flag (sends) or every flag (all) of Pids from a helper. It is
%% monitored, not linked: once it has paused send tracing it must live to resume it,
%% even if the tracer dies.
start_muter(Muting, Pids, #{muter := undefined, backend := Backend} = S) ->
    Unique = lists:usort(Pids),
    Clear = case Muting of
                sends -> fun() -> bathysphere_trace_api:untrace_sends(Backend, Unique) end;
                all -> fun() -> clear_flags(all, Unique, Backend) end
            end,
    {Muter, _} = spawn_opt(Clear, [monitor, {priority, high}]),
    S#{muter := Muter, muting := Muting};
start_muter(Muting, Pids, #{backend := Backend} = S) ->
    %% One is still at work (a trip a second ago): no second pause, which could
    %% restore the first one's "paused" as the way it was.
    clear_flags(Muting, Pids, Backend),
    S.

%% Clears the send flag (sends) or every flag (all) of each of Pids, one by one.
clear_flags(sends, Pids, Backend) ->
    [bathysphere_trace_api:untrace_flags(Backend, P, [send]) || P <- Pids],
    ok;
clear_flags(all, Pids, Backend) ->
    [bathysphere_trace_api:untrace_process(Backend, P) || P <- Pids],
    ok.

%% The muter must finish before the agent's code can go (a purge would kill it
%% with send tracing paused).
await_muter(#{muter := undefined}) ->
    ok;
await_muter(#{muter := Muter}) ->
    receive {'DOWN', _, process, Muter, _} -> ok after 400 -> ok end.

on_tick(S) ->
    Now = now_ms(),
    S1 = maybe_window(Now, S),
    S2 = maybe_reconcile(Now, S1),
    S3 = bathysphere_island:gather_facts(50, S2),
    S4 = maybe_check_alive(Now, S3),
    S5 = check_memory(check_duration(Now, S4)),
    flush(S5#{clock := bathysphere_event:clock()}).

%% Every second: summaries of what was not recorded one by one, fresh counters.
maybe_window(Now, S) ->
    case Now - maps:get(last_window, S) >= 1000 of
        false ->
            S;
        true ->
            End = bathysphere_event:now_us(),
            Summaries = bathysphere_limits:take_summaries(),
            S1 = lists:foldl(
                     fun({Pid, First, Counts, Bytes, Peers}, Acc) ->
                             emit({summary, First, Pid, none, {End, Counts, Bytes, Peers}}, Acc)
                     end,
                     S, Summaries),
            S1#{last_window := Now,
                window_start := maps:get(recorded, S1) + maps:get(summarised, S1)}
    end.

maybe_reconcile(Now, S) ->
    Due = Now - maps:get(last_reconcile, S),
    case (maps:get(dirty, S) andalso Due >= 200) orelse Due >= 2000 of
        true -> (bathysphere_island:reconcile(S))#{last_reconcile := Now};
        false -> S
    end.

%% Every two seconds: which mentioned processes have died (at most 2000 checked).
maybe_check_alive(Now, S) ->
    case Now - maps:get(last_alive, S) >= 2000 of
        false ->
            S;
        true ->
            Pids = lists:sublist(maps:keys(maps:get(mentioned, S)), 2000),
            Dead = [P || P <- Pids, not is_process_alive(P)],
            T = bathysphere_event:now_us(),
            S1 = lists:foldl(fun(P, Acc) -> emit({gone, T, P, none, none}, Acc) end, S, Dead),
            S1#{mentioned := maps:without(Dead, maps:get(mentioned, S1)), last_alive := Now}
    end.

check_duration(Now, S) ->
    case Now >= maps:get(deadline, S) andalso not maps:get(expired, S) of
        true ->
            S1 = stop_all(S),
            S2 = emit({stopped, bathysphere_event:now_us(), none, none, max_duration}, S1),
            S2#{expired := true};
        false ->
            S
    end.

check_memory(S) ->
    {memory, Bytes} = erlang:process_info(self(), memory),
    case Bytes > maps:get(max_memory, maps:get(limits, S)) of
        true ->
            Waiting = maps:get(outbox_n, S),
            Emptied = S#{outbox := queue:new(), outbox_n := 0,
                         dropped := maps:get(dropped, S) + Waiting},
            erlang:garbage_collect(),
            trip(memory, Bytes, Emptied);
        false ->
            S
    end.

%% ------------------------------------------------------------------ commands

command({explore, Pid}, S) when is_pid(Pid) ->
    Chosen = emit({level, bathysphere_event:now_us(), Pid, none, chosen}, S),
    when_active(S, fun() -> {ok, flush(bathysphere_island:explore(Pid, Chosen))} end);
command({listen, Pid}, S) when is_pid(Pid) ->
    when_active(S, fun() -> {ok, flush(bathysphere_island:listen(Pid, S))} end);
command({stop, Pid}, S) when is_pid(Pid) ->
    S1 = bathysphere_island:stop(Pid, S),
    {ok, flush(emit({level, bathysphere_event:now_us(), Pid, none, stopped}, S1))};
command({mention, Pids}, S) when is_list(Pids) ->
    {ok, lists:foldl(fun mention/2, S, Pids)};
command({limits, Options}, S) ->
    Limits = bathysphere_limits:merge(maps:get(limits, S), Options),
    Deadline = get(started_ms) + maps:get(max_duration_ms, Limits),
    {ok, S#{limits := Limits, deadline := Deadline}};
command(status, S) ->
    {status(S), S};
command(stop_all, S) ->
    {ok, flush(stop_all(S))};
command(_, S) ->
    {{error, unknown_command}, S}.

when_active(#{expired := true} = S, _) -> {{error, expired}, S};
when_active(_, Action) -> Action().

status(S) ->
    {message_queue_len, Queue} = erlang:process_info(self(), message_queue_len),
    {memory, Memory} = erlang:process_info(self(), memory),
    #{backend => bathysphere_trace_api:kind(maps:get(backend, S)),
      roots => maps:keys(maps:get(roots, S)),
      island => map_size(maps:get(island, S)),
      listened => maps:keys(maps:get(listened, S)),
      boundary => map_size(maps:get(boundary, S)),
      mentioned => map_size(maps:get(mentioned, S)),
      queue => Queue, memory => Memory,
      recorded => maps:get(recorded, S), summarised => maps:get(summarised, S),
      dropped => maps:get(dropped, S), outside_island => maps:get(outside, S),
      overloads => maps:get(overloads, S), buffered => maps:get(outbox_n, S),
      ports_traced => maps:get(ports_traced, S), limits => maps:get(limits, S)}.

%% Every flag off; the tracer stays for status and a final flush.
stop_all(S) ->
    bathysphere_trace_api:destroy(maps:get(backend, S)),
    Backend = bathysphere_trace_api:new(self()),
    S#{backend := Backend, roots := #{}, island := #{}, listened := #{}, boundary := #{},
       facts_pending := #{}, ports_traced := false}.

finish(Reason, S) ->
    await_muter(S),
    bathysphere_trace_api:destroy(maps:get(backend, S)),
    case maps:get(watcher, S) of
        undefined -> ok;
        Watcher -> exit(Watcher, kill)
    end,
    _ = flush(emit({stopped, bathysphere_event:now_us(), none, none, stop_reason(Reason)}, S)),
    exit(normal).

stop_reason(Reason) when is_atom(Reason) -> Reason;
stop_reason(_) -> crashed.

now_ms() ->
    erlang:monotonic_time(millisecond).
