%% The bounds that keep tracing from flooding the node, and the per-second
%% windows that turn too many events into summaries.
%%
%% Every bound has a default and can be changed by the client. Counters live in
%% the tracer's process dictionary: it is the fastest mutable store a process has,
%% and the tracer is the only process that touches them.
-module(bathysphere_limits).

-export([defaults/0, merge/2]).
-export([admit/3, summarise/5, take_summaries/0, window_counts/0, top_offenders/1]).
-export([count_late_send/3, fold_late_sends/1, count_late_event/0, take_late_events/0]).

defaults() ->
    #{%% trace messages waiting in the tracer before the noisiest level goes off
      max_queue => 20000,
      %% events per second recorded one by one, node-wide and per process
      node_events_per_second => 50000,
      process_events_per_second => 5000,
      %% tracer heap + batches waiting for the client, bytes
      max_memory => 64 * 1024 * 1024,
      %% printed message bodies, characters, and the ~P depth used to print them
      max_print_chars => 200,
      print_depth => 10,
      %% bodies of at most this many bytes (external format, binaries included)
      %% travel as terms and the client prints them
      max_raw_bytes => 512,
      %% tracing stops by itself after this long, milliseconds
      max_duration_ms => 30 * 60 * 1000,
      %% events kept for a client that cannot keep up, then counted and dropped
      max_buffered_events => 200000,
      %% processes explored at once, processes remembered as mentioned
      max_island => 2000,
      max_mentioned => 20000,
      %% events per batch and the batching interval
      batch_events => 5000,
      batch_interval_ms => 100,
      %% node-wide port tracing, polling of names / ETS / ports
      trace_ports => true,
      poll_interval_ms => 500,
      ets_size_interval_ms => 5000}.

%% Known keys from Options override the defaults; unknown keys are ignored.
merge(Limits, Options) when is_map(Options) ->
    maps:fold(
        fun(Key, Value, Acc) ->
            case maps:is_key(Key, Acc) of
                true -> Acc#{Key := Value};
                false -> Acc
            end
        end,
        Limits, Options);
merge(Limits, _) ->
    Limits.

%% Counts one event of Pid in this window; true while the rates allow recording
%% it individually. Total is the node-wide count of the window, this event
%% included: the tracer derives it from its own counters, which saves a write here.
admit(Pid, Total, Limits) ->
    Own = bump({window, Pid}),
    Total =< maps:get(node_events_per_second, Limits)
        andalso Own =< maps:get(process_events_per_second, Limits).

bump(Key) ->
    N = case get(Key) of undefined -> 1; Old -> Old + 1 end,
    put(Key, N),
    N.

%% Adds an event that was not recorded individually to Pid's summary.
summarise(Pid, Kind, Bytes, Peer, Ts) ->
    add_to_summary(Pid, Kind, 1, Bytes, Peer, Ts).

%% A send that arrived while its level was being switched off: one counter, no
%% size (measuring it would cost the time the tracer needs to keep up).
count_late_send(Pid, Tag, To) ->
    bump({late, Pid, Tag, To}).

%% Another event of a level being switched off: it will not be recorded, only counted.
count_late_event() ->
    bump(late_events).

%% How many such events there were since the last call.
take_late_events() ->
    case erase(late_events) of
        undefined -> 0;
        N -> N
    end.

%% Adds the late sends to their senders' summaries; returns how many there were.
fold_late_sends(Ts) ->
    lists:foldl(
        fun({{late, Pid, Tag, To} = Key, N}, Total) ->
                erase(Key),
                Kind = case Tag of send -> send; _ -> send_to_dead end,
                add_to_summary(Pid, Kind, N, 0, To, Ts),
                Total + N;
           (_, Total) ->
                Total
        end,
        0, get()).

add_to_summary(Pid, Kind, N, Bytes, Peer, Ts) ->
    {Counts, Total, Peers, First} =
        case get({summary, Pid}) of
            undefined -> {#{}, 0, #{}, Ts};
            Old -> Old
        end,
    put({summary, Pid},
        {maps:update_with(Kind, fun(C) -> C + N end, N, Counts),
         Total + Bytes,
         add_peer(Peer, N, Peers),
         First}).

%% At most 32 peers per summary; the rest are counted under 'other'.
add_peer(none, _, Peers) -> Peers;
add_peer(Peer, N, Peers) ->
    Key = case maps:is_key(Peer, Peers) orelse map_size(Peers) < 32 of
              true -> Peer;
              false -> other
          end,
    maps:update_with(Key, fun(C) -> C + N end, N, Peers).

%% Ends the window: the summaries collected and the counters reset.
%% Returns [{Pid, FirstTs, Counts, Bytes, TopPeers}].
take_summaries() ->
    lists:foldl(
        fun({summary, Pid} = Key, Acc) ->
                {Counts, Bytes, Peers, First} = erase(Key),
                [{Pid, First, maps:to_list(Counts), Bytes, top(Peers, 8)} | Acc];
           ({window, _} = Key, Acc) ->
                erase(Key),
                Acc;
           (_, Acc) ->
                Acc
        end,
        [], get_keys()).

%% Events per process in the current window.
window_counts() ->
    [{Pid, N} || {{window, Pid}, N} <- get()].

top_offenders(N) ->
    top(maps:from_list(window_counts()), N).

top(Counts, N) ->
    lists:sublist(lists:reverse(lists:keysort(2, maps:to_list(Counts))), N).
