function _aircall_ext_completion;
    set -l response (env _AIRCALL_EXT_COMPLETE=fish_complete COMP_WORDS=(commandline -cp) COMP_CWORD=(commandline -t) aircall-ext);
    set -l option (string match -r -- '^-[^=]*=' (commandline -t));

    for completion in $response;
        set -l metadata (string split "," $completion);

        if test $metadata[1] = "dir";
            for path in (__fish_complete_directories $metadata[2]);
                echo "$option$path";
            end;
        else if test $metadata[1] = "file";
            for path in (__fish_complete_path $metadata[2]);
                echo "$option$path";
            end;
        else if test $metadata[1] = "plain";
            echo $metadata[2];
        end;
    end;
end;

complete --no-files --command aircall-ext --arguments "(_aircall_ext_completion)";
