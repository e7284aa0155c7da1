-- promises: none
-- A migration that changes nothing: `after` stays an exact copy of `before`. For A/A runs (`bench calibrate`
-- runs the gate with it to count false alarms); every difference the harness reports is noise.
SELECT 1;
