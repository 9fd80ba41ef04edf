%% Polls what tracing cannot report node-wide, cheaply and boundedly: registered
%% names appearing and disappearing, ETS tables created, deleted, given away or
%% re-owned (with periodic size snapshots), and port owner changes. Differences
%% go to the tracer as {bathysphere_watch, Events}, in the tracer's event format.
%% The first poll reports what exists already.
-module(bathysphere_watch).

-export([init/2]).

%% At most this many tables / ports are looked at per poll.
max_items() -> 2000.

init(Tracer, Limits) ->
    Interval = maps:get(poll_interval_ms, Limits),
    SizeInterval = maps:get(ets_size_interval_ms, Limits),
    loop(Tracer, Interval, SizeInterval, #{}, #{}, #{}, 0).

loop(Tracer, Interval, SizeInterval, Names, Tables, Ports, LastSizes) ->
    T = bathysphere_event:now_us(),
    {NameEvents, Names1} = names(T, Names),
    {TableEvents, Tables1} = tables(T, Tables),
    {PortEvents, Ports1} = ports(T, Ports),
    Now = erlang:monotonic_time(millisecond),
    {SizeEvents, LastSizes1} =
        case Now - LastSizes >= SizeInterval of
            true -> {sizes(T, Tables1), Now};
            false -> {[], LastSizes}
        end,
    case NameEvents ++ TableEvents ++ PortEvents ++ SizeEvents of
        [] -> ok;
        Events -> Tracer ! {bathysphere_watch, Events}
    end,
    receive after Interval -> ok end,
    loop(Tracer, Interval, SizeInterval, Names1, Tables1, Ports1, LastSizes1).

%% Name => Pid (or Port); events for names that appeared, went, or moved.
names(T, Old) ->
    New = maps:from_list([{Name, whereis(Name)} || Name <- registered()]),
    Gone = [{name_down, T, Who, none, Name} || {Name, Who} <- maps:to_list(Old),
                                              maps:get(Name, New, undefined) =/= Who],
    Came = [{name_up, T, Who, none, Name} || {Name, Who} <- maps:to_list(New),
                                            Who =/= undefined,
                                            maps:get(Name, Old, undefined) =/= Who],
    {Gone ++ Came, New}.

%% Table => {Owner, Heir}.
tables(T, Old) ->
    Ids = lists:sublist(ets:all(), max_items()),
    Infos = [{Id, catch ets:info(Id)} || Id <- Ids],
    Live = [{Id, Info} || {Id, Info} <- Infos, is_list(Info)],
    New = maps:from_list([{Id, {get(owner, Info), get(heir, Info)}} || {Id, Info} <- Live]),
    Created = [{ets_new, T, Id, get(owner, Info), table_facts(Info)}
               || {Id, Info} <- Live, not maps:is_key(Id, Old)],
    Moved = [{ets_owner, T, Id, Owner, Heir}
             || {Id, {Owner, Heir}} <- maps:to_list(New),
                maps:is_key(Id, Old), maps:get(Id, Old) =/= {Owner, Heir}],
    Deleted = [{ets_delete, T, Id, none, none} || Id <- maps:keys(Old), not maps:is_key(Id, New)],
    {Created ++ Moved ++ Deleted, New}.

table_facts(Info) ->
    #{name => get(name, Info), heir => get(heir, Info), type => get(type, Info),
      protection => get(protection, Info), size => get(size, Info),
      memory => get(memory, Info)}.

get(Key, Info) -> proplists:get_value(Key, Info).

sizes(T, Tables) ->
    [{ets_size, T, Id, none, {Size, Memory}}
     || Id <- maps:keys(Tables),
        {Size, Memory} <- [size_of(Id)], is_integer(Size)].

size_of(Id) ->
    {ets:info(Id, size), ets:info(Id, memory)}.

%% Port => Owner: owner changes (port_connect) have no trace event.
ports(T, Old) ->
    Owners = [{Port, erlang:port_info(Port, connected)}
              || Port <- lists:sublist(erlang:ports(), max_items())],
    New = maps:from_list([{Port, Owner} || {Port, {connected, Owner}} <- Owners]),
    Seen = [{port_seen, T, Port, Owner, port_name(Port)}
            || {Port, Owner} <- maps:to_list(New), not maps:is_key(Port, Old)],
    Moved = [{port_owner, T, Port, Owner, none}
             || {Port, Owner} <- maps:to_list(New),
                maps:is_key(Port, Old), maps:get(Port, Old) =/= Owner],
    {Seen ++ Moved, New}.

port_name(Port) ->
    case erlang:port_info(Port, name) of
        {name, Name} -> unicode:characters_to_binary(Name);
        undefined -> none
    end.
