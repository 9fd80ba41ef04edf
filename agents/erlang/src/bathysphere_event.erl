%% Turns trace messages into the events the client records.
%%
%% Every event is {Kind, TimeUs, Subject, Other, Detail}: Kind an atom, TimeUs
%% the trace's own timestamp as microseconds of system time, Subject the process
%% or port it is about, Other the other side (or none), Detail whatever else the
%% kind needs. Message bodies and exit reasons travel as a body: {Term, raw} when
%% the term is small (the client prints it, which is far cheaper than io_lib here),
%% else {Text, printed}, printed bounded (depth and characters) so a huge message
%% or exit reason cannot blow up the tracer or the batch.
-module(bathysphere_event).

-export([clock/0, from_trace/3, with_text/2, body/2, now_us/0, to_us/2, printed/2,
         message_bytes/1]).

%% What from_trace needs to turn trace timestamps into microseconds of system time:
%% {TimeOffset, NativeUnitsPerMicrosecond (0 when not a whole number), WordSize}.
%% Refreshed by the tracer on every tick (the time offset can change).
clock() ->
    PerSecond = erlang:convert_time_unit(1, second, native),
    PerUs = case PerSecond rem 1000000 of
                0 -> PerSecond div 1000000;
                _ -> 0
            end,
    {erlang:time_offset(), PerUs, erlang:system_info(wordsize)}.

%% An event, or ignore for trace messages we do not record (spawned: the
%% parent's spawn says the same).
from_trace({trace_ts, Pid, Tag, A, Ts}, Clock, Limits) ->
    one(Tag, Pid, A, to_us(Ts, Clock), Limits);
from_trace({trace_ts, Pid, Tag, A, B, Ts}, Clock, _Limits) ->
    two(Tag, Pid, A, B, to_us(Ts, Clock), Clock);
from_trace(_, _, _) ->
    ignore.

one(exit, Pid, Reason, T, Limits) when is_pid(Pid) ->
    {exit, T, Pid, none, body(Reason, Limits)};
one(closed, Port, Reason, T, Limits) ->
    {port_closed, T, Port, none, body(Reason, Limits)};
one(Tag, Port, Other, T, _) when is_port(Port) ->
    {port_tag(Tag), T, Port, Other, Tag};
one(Tag, Pid, Other, T, _)
  when Tag =:= link; Tag =:= unlink; Tag =:= getting_linked; Tag =:= getting_unlinked ->
    {Tag, T, Pid, Other, none};
one(Tag, Pid, Name, T, _) when Tag =:= register; Tag =:= unregister ->
    {Tag, T, Pid, none, Name};
one(_, _, _, _, _) ->
    ignore.

two(spawn, Pid, Child, {M, F, Args}, T, _) ->
    {spawn, T, Pid, Child, {M, F, arity(Args)}};
%% Messages stay raw here, with their size in words: only the ones recorded one by
%% one become a body (see with_text/2); the others only add to a summary.
two(send, Pid, Msg, To, T, {_, _, WordSize}) ->
    {send, T, Pid, To, {erts_debug:flat_size(Msg) * WordSize, Msg}};
two(send_to_non_existing_process, Pid, Msg, To, T, {_, _, WordSize}) ->
    {send_to_dead, T, Pid, To, {erts_debug:flat_size(Msg) * WordSize, Msg}};
two(open, Port, Owner, Name, T, _) ->
    {port_open, T, Port, Owner, Name};
two(_, _, _, _, _, _) ->
    ignore.

%% A send event as the client gets it: {Bytes, Body, raw | printed}.
with_text({Kind, T, Pid, To, {Bytes, Msg}}, Limits) ->
    {Body, How} = body(Msg, Limits),
    {Kind, T, Pid, To, {Bytes, Body, How}}.

%% {Term, raw} for a term of at most max_raw_bytes in the external format, else
%% {Text, printed}. The heap size rules out big terms cheaply, but it counts a large
%% binary as a few words: the external size counts its bytes.
body(Term, Limits) ->
    Max = maps:get(max_raw_bytes, Limits),
    case erts_debug:flat_size(Term) =< Max div 8 andalso erlang:external_size(Term) =< Max of
        true -> {Term, raw};
        false -> {printed(Term, Limits), printed}
    end.

port_tag(link) -> port_link;
port_tag(getting_linked) -> port_link;
port_tag(unlink) -> port_unlink;
port_tag(getting_unlinked) -> port_unlink;
port_tag(register) -> port_register;
port_tag(unregister) -> port_unregister;
port_tag(Other) -> Other.

arity(Args) when is_list(Args) -> length(Args);
arity(Arity) -> Arity.

%% Plain integer division when the native unit is a whole number of microseconds
%% (nanoseconds on Linux): convert_time_unit per event is a measurable cost.
to_us(Native, {Offset, 0, _}) ->
    erlang:convert_time_unit(Native + Offset, native, microsecond);
to_us(Native, {Offset, PerUs, _}) ->
    (Native + Offset) div PerUs.

now_us() ->
    erlang:system_time(microsecond).

%% Heap size of the message in bytes: what sending it copied.
message_bytes(Msg) ->
    erts_debug:flat_size(Msg) * erlang:system_info(wordsize).

%% The term as ~P prints it, at most max_print_chars characters, as a binary.
printed(Term, Limits) ->
    Depth = maps:get(print_depth, Limits),
    Max = maps:get(max_print_chars, Limits),
    Text = io_lib:format("~0tP", [Term, Depth]),
    Chars = lists:flatten(Text),
    Cut = case length(Chars) > Max of
              true -> lists:sublist(Chars, Max) ++ "...";
              false -> Chars
          end,
    unicode:characters_to_binary(Cut).
