// PlaybackController: watches the video element for the start of playback and for stalls
// (waiting after playback began, until it plays again).
import { Events, now } from './bus.js';

export class PlaybackController {
  constructor(bus, video) {
    this.started = false;
    let stallStart = null;
    // The first frame presented (HTML requestVideoFrameCallback; 'loadeddata' where it is missing).
    const firstFrame = (ms) => bus.emit(Events.FIRST_FRAME, { at: Math.round(ms) / 1000 });
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback((t) => firstFrame(t));
    else video.addEventListener('loadeddata', () => firstFrame(performance.now()), { once: true });
    video.addEventListener('playing', () => {
      if (!this.started) {
        this.started = true;
        bus.emit(Events.LOG, { name: 'playback started', text: `at ${video.currentTime.toFixed(2)} s` });
      }
      if (stallStart !== null) {
        bus.emit(Events.STALL, { start: stallStart, end: now(), duration: now() - stallStart, time: video.currentTime });
        stallStart = null;
      }
    });
    video.addEventListener('waiting', () => {
      if (this.started && stallStart === null && !video.seeking) {
        stallStart = now();
        bus.emit(Events.STALL, { start: stallStart, time: video.currentTime });
      }
    });
    video.addEventListener('ended', () => bus.emit(Events.LOG, { name: 'ended', text: `at ${video.currentTime.toFixed(2)} s` }));
  }
}
