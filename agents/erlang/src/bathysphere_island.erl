%% Which processes an exploration traces: the island.
%%
%% The island of a chosen process (a root) is everything reachable from it over
%% links through processes that do not trap exits. A process that traps exits
%% (usually a supervisor) is a boundary: shown, not traced, not crossed. The VM
%% spreads tracing by itself (set_on_link: a traced process's new links and
%% spawn_link children inherit the flags, so short-lived children are traced from
%% birth); this module admits those newcomers, turns tracing off for boundaries,
%% and now and then recomputes the island from the roots (reconcile) so that a
%% process that unlinked from it, or started trapping exits, stops being traced.
-module(bathysphere_island).

-export([explore/2, listen/2, stop/2, reconcile/1, on_link/3, on_exit/2, admit/2,
         gather_facts/2, flags/2]).

%% Trace flags of an island member; listened ones also report what they send.
flags(Pid, S) ->
    case maps:is_key(Pid, maps:get(listened, S)) of
        true -> [procs, set_on_link, send];
        false -> [procs, set_on_link]
    end.

explore(Pid, S) ->
    S1 = S#{roots := maps:put(Pid, true, maps:get(roots, S)),
            excluded := maps:remove(Pid, maps:get(excluded, S))},
    reconcile(S1).

%% A listened process is explored too; its sends are traced on top.
listen(Pid, S) ->
    S1 = S#{listened := maps:put(Pid, true, maps:get(listened, S))},
    S2 = bathysphere_tracer:emit({level, bathysphere_event:now_us(), Pid, none, listened}, S1),
    S3 = explore(Pid, S2),
    _ = bathysphere_trace_api:trace_process(maps:get(backend, S3), Pid, flags(Pid, S3)),
    S3.

%% Stops tracing Pid: no longer a root, no longer listened, kept out of islands.
stop(Pid, S) ->
    S1 = S#{roots := maps:remove(Pid, maps:get(roots, S)),
            listened := maps:remove(Pid, maps:get(listened, S)),
            excluded := maps:put(Pid, true, maps:get(excluded, S))},
    reconcile(S1).

%% Recomputes the island from the roots and applies the difference.
reconcile(S) ->
    {Members, Boundaries, Links} = walk(S),
    Island = maps:get(island, S),
    Joined = [P || P <- maps:keys(Members), not maps:is_key(P, Island)],
    Left = [P || P <- maps:keys(Island), not maps:is_key(P, Members)],
    NewBoundaries = [P || P <- maps:keys(Boundaries),
                          not maps:is_key(P, maps:get(boundary, S))],
    S1 = lists:foldl(fun(P, Acc) -> join(P, maps:get(P, Links, []), Acc) end, S, Joined),
    S2 = lists:foldl(fun(P, Acc) -> leave(P, unlinked, Acc) end, S1, Left),
    S3 = lists:foldl(fun(P, Acc) -> mark_boundary(P, Acc) end, S2, NewBoundaries),
    S3#{dirty := false}.

%% Breadth-first from the roots; at most max_island members.
walk(S) ->
    Max = maps:get(max_island, maps:get(limits, S)),
    Roots = [P || P <- maps:keys(maps:get(roots, S)), is_process_alive(P)],
    walk(Roots, #{}, #{}, #{}, S, Max).

walk([], Members, Boundaries, Links, _, _) ->
    {Members, Boundaries, Links};
walk([P | Queue], Members, Boundaries, Links, S, Max) ->
    Seen = maps:is_key(P, Members) orelse maps:is_key(P, Boundaries)
        orelse maps:is_key(P, maps:get(excluded, S)),
    case Seen orelse map_size(Members) >= Max of
        true ->
            walk(Queue, Members, Boundaries, Links, S, Max);
        false ->
            IsRoot = maps:is_key(P, maps:get(roots, S)),
            case erlang:process_info(P, [trap_exit, links]) of
                [{trap_exit, true}, {links, _}] when not IsRoot ->
                    walk(Queue, Members, Boundaries#{P => true}, Links, S, Max);
                [{trap_exit, _}, {links, PLinks}] ->
                    Next = [L || L <- PLinks, is_pid(L), node(L) =:= node()],
                    walk(Queue ++ Next, Members#{P => true}, Boundaries,
                         Links#{P => PLinks}, S, Max);
                undefined ->
                    walk(Queue, Members, Boundaries, Links, S, Max)
            end
    end.

join(P, Links, S) ->
    Backend = maps:get(backend, S),
    _ = bathysphere_trace_api:trace_process(Backend, P, flags(P, S)),
    Now = bathysphere_event:now_us(),
    S1 = bathysphere_tracer:emit({island, Now, P, none, joined}, S),
    S2 = case Links of
             [] -> S1;
             _ -> bathysphere_tracer:emit({links, Now, P, none, Links}, S1)
         end,
    want_facts(P, S2#{island := maps:put(P, true, maps:get(island, S2)),
                      boundary := maps:remove(P, maps:get(boundary, S2))}).

leave(P, Why, S) ->
    _ = bathysphere_trace_api:untrace_process(maps:get(backend, S), P),
    %% A dead member's exit event says it all.
    S1 = case is_process_alive(P) of
             true -> bathysphere_tracer:emit({island, bathysphere_event:now_us(), P, none, Why}, S);
             false -> S
         end,
    bathysphere_tracer:mention(P, S1#{island := maps:remove(P, maps:get(island, S1)),
        listened := maps:remove(P, maps:get(listened, S1))}).

mark_boundary(P, S) ->
    _ = bathysphere_trace_api:untrace_process(maps:get(backend, S), P),
    S1 = bathysphere_tracer:emit({island, bathysphere_event:now_us(), P, none, boundary}, S),
    S2 = bathysphere_tracer:mention(P, S1),
    want_facts(P, S2#{boundary := maps:put(P, true, maps:get(boundary, S2))}).

%% A member P linked to (or spawned) Other. Inherit tells whether the VM already
%% traced Other (set_on_link covers links P made, not links made to P).
on_link(Other, Inherited, S) when is_pid(Other) ->
    Known = maps:is_key(Other, maps:get(island, S)) orelse maps:is_key(Other, maps:get(boundary, S))
        orelse maps:is_key(Other, maps:get(excluded, S)) orelse node(Other) =/= node(),
    case Known of
        true -> S;
        false -> newcomer(Other, Inherited, S)
    end;
on_link(_Port, _, S) ->
    S.

newcomer(P, Inherited, S) ->
    case erlang:process_info(P, trap_exit) of
        {trap_exit, true} ->
            mark_boundary(P, S);
        _ ->
            %% Alive, or already dead: a short-lived child whose exit is still on its way.
            S1 = case Inherited of
                     true -> S;
                     false ->
                         _ = bathysphere_trace_api:trace_process(maps:get(backend, S), P, flags(P, S)),
                         S
                 end,
            S2 = bathysphere_tracer:emit({island, bathysphere_event:now_us(), P, none, joined}, S1),
            want_facts(P, S2#{island := maps:put(P, true, maps:get(island, S2))})
    end.

%% A dead process leaves the island, and its facts are no longer wanted.
on_exit(P, S) ->
    S#{island := maps:remove(P, maps:get(island, S)),
       listened := maps:remove(P, maps:get(listened, S)),
       facts_pending := maps:remove(P, maps:get(facts_pending, S))}.

%% An event from a process we did not put in the island: the VM spread tracing to
%% it. Returns {true, S} to record it, {false, S} after turning its tracing off.
admit(P, S) when is_pid(P) ->
    %% With no root left (the level went off in an overload, or every exploration was
    %% stopped), a late event of a former member must not spread tracing again through
    %% its links.
    Outside = map_size(maps:get(roots, S)) =:= 0
        orelse maps:is_key(P, maps:get(boundary, S)) orelse maps:is_key(P, maps:get(excluded, S)),
    case Outside of
        true ->
            _ = bathysphere_trace_api:untrace_process(maps:get(backend, S), P),
            {false, S};
        false ->
            case erlang:process_info(P, [trap_exit, links]) of
                undefined ->
                    {true, S};
                [{trap_exit, false}, {links, Links}] ->
                    case lists:any(fun(L) -> maps:is_key(L, maps:get(island, S)) end, Links) of
                        true -> {true, newcomer(P, true, S)};
                        false -> {false, untrace(P, S)}
                    end;
                _ ->
                    {false, untrace(P, S)}
            end
    end;
admit(_Port, S) ->
    {true, S}.

untrace(P, S) ->
    _ = bathysphere_trace_api:untrace_process(maps:get(backend, S), P),
    S.

%% Facts are gathered a few per tick (gather_facts/2). Pending ones are a set of
%% at most max_island processes; a process that dies first leaves it (on_exit/2),
%% so short-lived children cost nothing here.
want_facts(P, S) ->
    Pending = maps:get(facts_pending, S),
    case map_size(Pending) < maps:get(max_island, maps:get(limits, S)) of
        true -> S#{facts_pending := Pending#{P => true}};
        false -> S
    end.

%% OTP facts for up to N pending processes: ancestors, initial call, registered
%% name, trap_exit, application, monitors.
gather_facts(N, S) ->
    Pending = maps:get(facts_pending, S),
    Now = take_keys(N, maps:iterator(Pending), []),
    S1 = S#{facts_pending := maps:without(Now, Pending)},
    lists:foldl(fun(P, Acc) -> facts_of(P, Acc) end, S1, lists:sort(Now)).

take_keys(0, _, Taken) ->
    Taken;
take_keys(N, Iterator, Taken) ->
    case maps:next(Iterator) of
        none -> Taken;
        {Key, _, Next} -> take_keys(N - 1, Next, [Key | Taken])
    end.

facts_of(P, S) ->
    Items = [registered_name, trap_exit, dictionary, initial_call, monitors, monitored_by],
    case erlang:process_info(P, Items) of
        undefined ->
            S;
        Info ->
            Dict = proplists:get_value(dictionary, Info, []),
            Facts = #{registered_name => registered_name(Info),
                      trap_exit => proplists:get_value(trap_exit, Info),
                      ancestors => proplists:get_value('$ancestors', Dict, []),
                      initial_call => initial_call(Dict, Info),
                      application => application_of(P)},
            Monitors = {[monitored(M) || M <- proplists:get_value(monitors, Info, [])],
                        proplists:get_value(monitored_by, Info, [])},
            Now = bathysphere_event:now_us(),
            S1 = bathysphere_tracer:emit({facts, Now, P, none, Facts}, S),
            bathysphere_tracer:emit({monitors, Now, P, none, Monitors}, S1)
    end.

registered_name(Info) ->
    case proplists:get_value(registered_name, Info) of
        [] -> none;
        Name -> Name
    end.

initial_call(Dict, Info) ->
    case proplists:get_value('$initial_call', Dict) of
        undefined -> proplists:get_value(initial_call, Info);
        Call -> Call
    end.

application_of(P) ->
    case catch application:get_application(P) of
        {ok, App} -> App;
        _ -> none
    end.

monitored({process, Pid}) when is_pid(Pid) -> Pid;
monitored({process, {Name, _Node}}) -> Name;
monitored({port, Port}) -> Port;
monitored(Other) -> Other.
